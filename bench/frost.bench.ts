/**
 * FROST: in-process DKG and signing through our session layer (Party + driver + wire
 * codec + echo) beside a bare `createFROST` call sequence doing the same cryptography,
 * and one single-party noble signature for scale. The ratio column is the cost of our
 * framing. Every party runs in this process, so times are total CPU of all parties.
 */
import type { FROST, FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { frostKeys, partyRange, runFrostDkg, runFrostSign } from '../protocol/frost/local.ts';
import { toNoble } from '../protocol/frost/keys.ts';
import { FROST_SCHEMES, frostSuite, type FrostScheme } from '../protocol/frost/suites.ts';
import { measure, printTable, type Stats } from './stats.ts';

const SIZES: [number, number][] = [
  [2, 3],
  [3, 5],
  [7, 10],
  [67, 100],
];
const msg = new TextEncoder().encode('benchmark message');

function runsFor(n: number): number {
  return n >= 100 ? 1 : n >= 10 ? 10 : 30;
}

function bareDkg(frost: FROST, t: number, n: number) {
  const ids = partyRange(n).map((i) => frost.Identifier.fromNumber(i));
  const signers = { min: t, max: n };
  const r1 = ids.map((id) => frost.DKG.round1(id, signers));
  const r2 = r1.map((r, i) => frost.DKG.round2(r.secret, r1.filter((_, j) => j !== i).map((x) => x.public)));
  return r1.map((r, i) =>
    frost.DKG.round3(
      r.secret,
      r1.filter((_, j) => j !== i).map((x) => x.public),
      r2.filter((_, j) => j !== i).map((x) => x[ids[i]!]!),
    ),
  );
}

function bareSign(frost: FROST, keys: readonly { public: FrostPublic; secret: FrostSecret }[], t: number) {
  const signers = keys.slice(0, t);
  const nonces = signers.map((k) => frost.commit(k.secret));
  const list = nonces.map((n) => n.commitments);
  const shares = Object.fromEntries(signers.map((k, i) => [k.secret.identifier, frost.signShare(k.secret, k.public, nonces[i]!.nonces, list, msg)]));
  const sig = frost.aggregate(keys[0]!.public, list, msg, shares);
  if (!frost.verify(sig, msg, keys[0]!.public.commitments[0]!)) throw new Error('bare FROST signature invalid');
}

const single: Record<FrostScheme, () => void> = {
  'eddsa-ed25519': (() => {
    const sk = ed25519.utils.randomSecretKey();
    return () => void ed25519.sign(msg, sk);
  })(),
  'schnorr-bip340': (() => {
    const sk = schnorr.utils.randomSecretKey();
    return () => void schnorr.sign(msg, sk);
  })(),
  'frost-secp256k1': (() => {
    const sk = secp256k1.utils.randomSecretKey();
    return () => void secp256k1.sign(new Uint8Array(32).fill(1), sk);
  })(),
};

export async function run(): Promise<void> {
  const only = process.env.FROST_BENCH_MAX_N ? Number(process.env.FROST_BENCH_MAX_N) : Infinity;
  for (const scheme of FROST_SCHEMES) {
    const { frost } = frostSuite(scheme);
    const rows: (Stats & { note?: string })[] = [await measure(`${scheme} single-party noble sign`, single[scheme], 200)];
    for (const [t, n] of SIZES) {
      if (n > only) continue;
      const runs = runsFor(n);
      const warm = n >= 100 ? 0 : 2;
      const ours = await measure(`${scheme} DKG ${t}-of-${n} (ours)`, () => runFrostDkg(scheme, t, n), runs, warm);
      // noble's own round2/3 re-parse and subgroup-check every commitment for every party and
      // check each share alone: at 67-of-100 that is ~20-30 minutes, so it is left out there.
      const bare = n >= 100 ? undefined : await measure(`${scheme} DKG ${t}-of-${n} (bare createFROST)`, () => bareDkg(frost, t, n), runs, warm);
      const keys = frostKeys(scheme, t, n);
      const bareKeys = n >= 100 ? [...keys.values()].map(toNoble) : bareDkg(frost, t, n);
      const signers = partyRange(t);
      const oursSign = await measure(`${scheme} sign ${t}-of-${n} (ours)`, () => runFrostSign(keys, signers, msg), runs * 2, warm);
      const bareS = await measure(`${scheme} sign ${t}-of-${n} (bare createFROST)`, () => bareSign(frost, bareKeys, t), runs * 2, warm);
      rows.push(
        bare ? { ...ours, note: `ratio ${(ours.medianMs / bare.medianMs).toFixed(2)}x` } : { ...ours, note: 'bare DKG not run (too slow at this size)' },
        ...(bare ? [bare] : []),
        { ...oursSign, note: `ratio ${(oursSign.medianMs / bareS.medianMs).toFixed(2)}x` },
        bareS,
      );
    }
    printTable(`FROST ${scheme}: in-process, all parties' CPU`, rows);
  }
}
