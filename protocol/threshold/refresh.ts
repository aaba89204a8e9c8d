/**
 * Proactive refresh of a FROST key (Herzberg et al.'s proactive secret sharing): every holder
 * deals a random sharing of zero, f_i(0) = 0, and adds the shares it receives to its own.
 * The group key and the polynomial's constant term stay; every share changes, so shares of
 * the old epoch do not combine with shares of the new one.
 *
 * Round 1 (reliable broadcast): commitments C_{i,k} = a_{i,k}·G to f_i's coefficients k = 1..t−1
 * (no constant term: it is zero by construction, which is what keeps the key).
 * Round 2 (direct): f_i(j) to each holder j. Each holder checks its shares in one batch against
 * Σ_j Σ_k j^k·C_{j,k} and, only on failure, dealer by dealer to name the culprit.
 * All n holders take part: a holder left out would keep a share of the old polynomial.
 */
import { array, encodeCbor, struct, type Bytes } from '../core/codec.ts';
import { ProtocolAbort, ProtocolConfigError } from '../core/errors.ts';
import type { PartyId } from '../core/ids.ts';
import { round, type ProtocolStart } from '../core/party.ts';
import { zeroize } from '../core/transcript.ts';
import type { FrostKeyShare } from './keys.ts';
import { frostSuite } from '../curves/ciphersuites.ts';
import { add, eq, mod, mulBase, mulUnsafe, type Group, type GroupElement } from '../curves/group.ts';

export const frostRefreshProtocol = (key: FrostKeyShare): string => `frost-refresh/${key.scheme}/v1`;

interface Round1Payload {
  commitment: Bytes[];
}
interface Round2Payload {
  share: Bytes;
}

const be = (b: Uint8Array) => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'));

/** Σ_{k=1}^{t−1} x^k·C_k by Horner's rule (the zero polynomial's commitment has no C_0). */
function evalZeroCommitment(g: Group, commitment: readonly GroupElement[], x: number): GroupElement {
  let acc = g.zero;
  for (let k = commitment.length - 1; k >= 0; k--) acc = mulUnsafe(add(acc, commitment[k]!), BigInt(x));
  return acc;
}

/** Refreshes `key` with every holder of it; the output is the next epoch's share. */
export function frostRefresh(key: FrostKeyShare): ProtocolStart<FrostKeyShare> {
  return (ctx) => {
    const holders = [...key.parties].sort((a, b) => a - b);
    if (ctx.parties.length !== holders.length || ctx.parties.some((p, i) => p !== holders[i])) {
      throw new ProtocolConfigError('a refresh needs every holder of the key');
    }
    const suite = frostSuite(key.scheme);
    const o = suite.group;
    const t = key.threshold;
    // f_i(x) = a_1 x + ... + a_{t−1} x^{t−1}
    const coefficients = Array.from({ length: t - 1 }, () => mod(be(ctx.rng(48)), o.order - 1n) + 1n);
    const commitment = coefficients.map((a) => o.serialize(mulBase(o, a)));
    const evaluate = (x: number) => {
      let acc = 0n;
      for (let k = coefficients.length - 1; k >= 0; k--) acc = mod((acc + coefficients[k]!) * BigInt(x), o.order);
      return acc;
    };
    const destroy = () => coefficients.fill(0n);
    const round1Codec = struct<Round1Payload>({ commitment: array(suite.point, t - 1) });
    const round2Codec = struct<Round2Payload>({ share: suite.scalar });

    // Round 1's state is destroyed when round 2 takes over: hand it the own share f_i(i) only.
    const combine = (dealt: ReadonlyMap<PartyId, GroupElement[]>, own: bigint) =>
      round<FrostKeyShare, never, Round2Payload>({
        number: 2,
        direct: round2Codec,
        finish: ({ direct }) => {
          const all = new Map<PartyId, GroupElement[]>([[ctx.self, commitment.map(o.decode)], ...dealt]);
          let delta = own;
          for (const p of direct.values()) delta = mod(delta + o.scalarFromBytes(p.share), o.order);
          // Summed zero-polynomial commitment Z_k = Σ_j C_{j,k}.
          const summed = Array.from({ length: t - 1 }, (_, k) => [...all.values()].reduce((acc, c) => add(acc, c[k]!), o.zero));
          if (!eq(mulBase(o, delta), evalZeroCommitment(o, summed, ctx.self))) {
            const culprits = [...direct]
              .filter(([from, p]) => {
                return !eq(mulBase(o, o.scalarFromBytes(p.share)), evalZeroCommitment(o, dealt.get(from)!, ctx.self));
              })
              .map(([from]) => from);
            throw new ProtocolAbort('invalid_share', culprits, `refresh share rejected${culprits.length ? ` from ${culprits.join(', ')}` : ''}`);
          }
          const oldShare = o.scalarFromBytes(key.signingShare);
          const next: FrostKeyShare = {
            ...key,
            signingShare: o.scalarToBytes(mod(oldShare + delta, o.order)),
            commitments: key.commitments.map((c, k) => (k === 0 ? c : o.serialize(add(o.decode(c), summed[k - 1]!)))),
            verifyingShares: new Map([...key.verifyingShares].map(([p, v]) => [p, o.serialize(add(o.decode(v), evalZeroCommitment(o, summed, p)))])),
          };
          return { send: {}, output: next };
        },
      });

    const exchange = round<FrostKeyShare, Round1Payload>({
      number: 1,
      broadcast: round1Codec,
      reliable: true,
      destroy,
      finish: ({ broadcasts }) => {
        const direct = new Map<PartyId, Uint8Array>();
        for (const p of broadcasts.keys()) {
          const share = o.scalarToBytes(evaluate(p));
          direct.set(p, encodeCbor(round2Codec, { share }));
          zeroize(share);
        }
        const dealt = new Map([...broadcasts].map(([from, b]) => [from, b.commitment.map(o.decode)] as const));
        return { send: { direct }, next: combine(dealt, evaluate(ctx.self)) };
      },
    });

    return { send: { broadcast: encodeCbor(round1Codec, { commitment }) }, next: exchange };
  };
}
