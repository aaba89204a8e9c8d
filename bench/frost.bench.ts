/**
 * FROST: in-process DKG and signing through our session layer (Party + driver + wire codec)
 * beside a bare `createFROST` call sequence doing the same cryptography, and one single-party
 * noble signature for scale. The ratio column is ours / bare. Every party runs in this
 * process, so times are the total CPU of all parties.
 *
 * Signing rows: "ours" is the coordinator model (`frostSignCoordinated`: one aggregator, no
 * echo); "ours, broadcast" is `frostSign` (echoed commitments, every signer aggregates and
 * verifies), kept for callers that want every signer to hold the signature.
 *
 * DKG caveat: our DKG shares deterministic public checks (proofs of knowledge, summed
 * commitments, point validation) across the in-process parties, which a deployment cannot
 * (each node computes them once). At 67-of-100 the bare noble DKG is too slow to run whole
 * (every party re-parses and subgroup-checks every commitment for every share: the estimate
 * is ~90 min on Ed25519), so its rounds 2 and 3 are timed for one party and scaled by n: "est.".
 *
 * "bare" runs on the same ciphersuite objects as ours (`protocol/curves/ciphersuites.ts`): for
 * Ed25519 and BIP340 noble's `createFROST` with our signShare/aggregate (`frost-fast.ts`), and
 * for Ed25519 the memoised subgroup check; the "as shipped" rows time noble's own
 * `ed25519_FROST` and `schnorr_FROST`. In one process every party shares the memo, which
 * separate nodes do not: `npm run bench:cluster` shows the effect on real processes.
 *
 * `FROST_BENCH_MAX_N=10 npm run bench -- frost` skips 67-of-100.
 */
import type { FROST, FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { schnorr, schnorr_FROST, secp256k1 } from '@noble/curves/secp256k1.js';
import { performance } from 'node:perf_hooks';
import { frostKeys, partyRange, runFrostDkg, runFrostSign, runFrostSignCoordinated, runFrostSignPresigned, systemRng } from '../protocol/testing/frost.ts';
import { frostCommitAhead } from '../protocol/frost/presigned.ts';
import { evaluatePolynomial } from '../protocol/threshold/dkg-math.ts';
import { toNoble } from '../protocol/threshold/keys.ts';
import { FROST_SCHEMES, frostSuite, type FrostScheme } from '../protocol/curves/ciphersuites.ts';
import { measure, measurePrepared, printTable, type Stats } from './stats.ts';

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

/** noble's DKG, all n parties. */
function bareDkg(frost: FROST, t: number, n: number) {
  const ids = partyRange(n).map((i) => frost.Identifier.fromNumber(i));
  const signers = { min: t, max: n };
  const r1 = ids.map((id) => frost.DKG.round1(id, signers));
  const others = (i: number) => r1.filter((_, j) => j !== i).map((x) => x.public);
  const r2 = r1.map((r, i) => frost.DKG.round2(r.secret, others(i)));
  return r1.map((r, i) => frost.DKG.round3(r.secret, others(i), r2.filter((_, j) => j !== i).map((x) => x[ids[i]!]!)));
}

/**
 * noble's DKG where running it whole takes too long: round 1 for all n parties, rounds 2 and 3
 * for party 1 only, scaled by n (every party does the same work). Party 1's incoming shares
 * come from the dealers' polynomials directly (equal to noble's round 2, see dkg-math.test.ts).
 */
function estimatedBareDkg(name: string, scheme: FrostScheme, frost: FROST, t: number, n: number): Stats {
  const ids = partyRange(n).map((i) => frost.Identifier.fromNumber(i));
  const signers = { min: t, max: n };
  let t0 = performance.now();
  const r1 = ids.map((id) => frost.DKG.round1(id, signers));
  const round1Ms = performance.now() - t0;
  const others = r1.slice(1).map((x) => x.public);
  t0 = performance.now();
  frost.DKG.round2(r1[0]!.secret, others);
  const round2Ms = performance.now() - t0;
  const received = r1.slice(1).map((r, j) => ({ identifier: ids[j + 1]!, signingShare: evaluatePolynomial(scheme, r.secret.coefficients!, 1) }));
  t0 = performance.now();
  frost.DKG.round3(r1[0]!.secret, others, received);
  const round3Ms = performance.now() - t0;
  const total = round1Ms + (round2Ms + round3Ms) * n;
  return { name, runs: 1, medianMs: total, p99Ms: total };
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

const SHIPPED: Partial<Record<FrostScheme, { name: string; frost: FROST }>> = {
  'eddsa-ed25519': { name: 'ed25519_FROST', frost: ed25519_FROST },
  'schnorr-bip340': { name: 'schnorr_FROST', frost: schnorr_FROST },
};

const ratio = (ours: Stats, bare: Stats, est = false) => `${(ours.medianMs / bare.medianMs).toFixed(2)}x bare${est ? ' (est.)' : ''}`;

export async function run(): Promise<void> {
  const maxN = process.env.FROST_BENCH_MAX_N ? Number(process.env.FROST_BENCH_MAX_N) : Infinity;
  for (const scheme of FROST_SCHEMES) {
    const { frost } = frostSuite(scheme);
    const singleSign = await measure(`${scheme} single-party noble sign`, single[scheme], 200);
    const rows: (Stats & { note?: string })[] = [singleSign];
    for (const [t, n] of SIZES) {
      if (n > maxN) continue;
      const runs = runsFor(n);
      const warm = n >= 100 ? 0 : 2;
      const big = n >= 100;
      const dkg = await measure(`DKG ${t}-of-${n} ours`, () => {
        const r = runFrostDkg(scheme, t, n);
        if (r.outputs.size !== n) throw new Error('DKG failed');
      }, runs, warm);
      const bareDkgStats = big
        ? estimatedBareDkg(`DKG ${t}-of-${n} bare createFROST (est.: rounds 2-3 of 1 party ×${n})`, scheme, frost, t, n)
        : await measure(`DKG ${t}-of-${n} bare createFROST`, () => bareDkg(frost, t, n), runs, warm);
      rows.push({ ...dkg, note: ratio(dkg, bareDkgStats, big) }, bareDkgStats);
      // noble's own instances show what our suites' memo and signShare/aggregate save.
      const shipped = big ? undefined : SHIPPED[scheme];
      if (shipped) rows.push(await measure(`DKG ${t}-of-${n} noble ${shipped.name} as shipped`, () => bareDkg(shipped.frost, t, n), runs, warm));

      const keys = frostKeys(scheme, t, n);
      const bareKeys = [...keys.values()].map(toNoble);
      const signers = partyRange(t);
      const signRuns = big ? 2 : runs * 2;
      const bareS = await measure(`sign ${t}-of-${n} bare createFROST`, () => bareSign(frost, bareKeys, t), signRuns, warm);
      const ours = await measure(`sign ${t}-of-${n} ours (one aggregator)`, () => {
        if (!runFrostSignCoordinated(keys, signers, msg).signature) throw new Error('signing failed');
      }, signRuns, warm);
      rows.push({ ...ours, note: `${ratio(ours, bareS)}; ${(ours.medianMs / singleSign.medianMs).toFixed(0)}x single-party sign` });
      if (!big) {
        // Nonces committed ahead (presignatures): the one flight a warm request costs.
        const ahead = () => new Map(signers.map((p) => [p, frostCommitAhead(keys.get(p)!, systemRng)] as const));
        const online = await measurePrepared(`sign ${t}-of-${n} ours, nonces committed ahead (one flight)`, ahead, (presignatures) => {
          if (!runFrostSignPresigned(keys, signers, msg, { presignatures }).signature) throw new Error('signing failed');
        }, signRuns, warm);
        rows.push({ ...online, note: `${ratio(online, bareS)}; committing not timed` });
        const broadcast = await measure(`sign ${t}-of-${n} ours, broadcast (echo, all aggregate)`, () => {
          if (runFrostSign(keys, signers, msg).outputs.size !== t) throw new Error('signing failed');
        }, signRuns, warm);
        rows.push({ ...broadcast, note: ratio(broadcast, bareS) });
      }
      rows.push(bareS);
      if (shipped) rows.push(await measure(`sign ${t}-of-${n} noble ${shipped.name} as shipped`, () => bareSign(shipped.frost, bareKeys, t), signRuns, warm));
    }
    printTable(`FROST ${scheme}: in-process, all parties' CPU`, rows);
  }
}
