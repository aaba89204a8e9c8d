/**
 * Resharing a FROST key to a new committee and/or threshold, public key unchanged (Desmedt–
 * Jajodia style redistribution). Any t old holders deal: dealer i turns its share into the
 * additive w_i = λ_i·x_i (λ over the dealers, at 0) and shares w_i with a fresh polynomial g_i
 * of the new degree t'−1, g_i(0) = w_i. New holder j's share is Σ_i g_i(j).
 *
 * Round 1: each dealer broadcasts its commitments D_{i,k} = g_{i,k}·G and the old public
 * package, and sends g_i(j) to each new holder j. A new holder checks that every dealer sent the
 * same old package, that D_{i,0} = λ_i·V_i (so a dealer cannot deal anything but its real share),
 * that Σ_i D_{i,0} is the group key, and its shares against the commitments (batched; per dealer
 * on failure, to blame). Dealers that leave the committee output nothing.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { array, bytes, encodeCbor, party, partyMap, struct, uint, type Bytes, type Codec } from '../core/codec.ts';
import { ProtocolAbort, ProtocolConfigError } from '../core/errors.ts';
import type { PartyId } from '../core/ids.ts';
import { lagrangeCoefficient } from '../core/lagrange.ts';
import { round, type ProtocolStart } from '../core/party.ts';
import { constantTimeEqual } from '../core/transcript.ts';
import type { FrostKeyShare } from './keys.ts';
import { frostSuite, type FrostScheme } from './suites.ts';

export const frostReshareProtocol = (scheme: FrostScheme): string => `frost-reshare/${scheme}/v1`;

export interface ReshareParams {
  readonly scheme: FrostScheme;
  /** Old holders that deal (exactly the old threshold of them). */
  readonly dealers: readonly PartyId[];
  /** The new committee and its threshold. */
  readonly newParties: readonly PartyId[];
  readonly newThreshold: number;
}

/** A dealer that leaves the committee ends with this. */
export interface ReshareDealt {
  readonly dealt: true;
}

type P = InstanceType<typeof secp256k1.Point>;
interface Curve {
  parse(b: Uint8Array): P;
  ser(p: P): Bytes;
  base: P;
  zero: P;
}
const curveOf = (scheme: FrostScheme): Curve =>
  scheme === 'eddsa-ed25519'
    ? { parse: (b) => ed25519.Point.fromBytes(b) as unknown as P, ser: (p) => (p as unknown as InstanceType<typeof ed25519.Point>).toBytes() as Bytes, base: ed25519.Point.BASE as unknown as P, zero: ed25519.Point.ZERO as unknown as P }
    : { parse: (b) => secp256k1.Point.fromBytes(b), ser: (p) => p.toBytes(true) as Bytes, base: secp256k1.Point.BASE, zero: secp256k1.Point.ZERO };
const mulU = (p: P, k: bigint): P => (k === 0n ? p.subtract(p) : p.multiplyUnsafe(k));

interface Dealing {
  oldThreshold: number;
  oldParties: PartyId[];
  groupKey: Bytes;
  oldVerifyingShares: Map<PartyId, Bytes>;
  chainCode: Bytes[];
  commitment: Bytes[];
}

function dealingCodec(scheme: FrostScheme, newThreshold: number): Codec<Dealing> {
  const { point } = frostSuite(scheme);
  return struct<Dealing>({
    oldThreshold: uint(0xffff),
    oldParties: array(party, { min: 2, max: 0xffff }),
    groupKey: point,
    oldVerifyingShares: partyMap(point, { min: 2, max: 0xffff }),
    chainCode: array(bytes(32), { min: 0, max: 1 }),
    commitment: array(point, newThreshold),
  });
}

/**
 * One party's side: `key` is its old share when it deals (else undefined). `ctx.parties` must be
 * dealers ∪ newParties.
 */
export function frostReshare(params: ReshareParams, key: FrostKeyShare | undefined): ProtocolStart<FrostKeyShare | ReshareDealt> {
  return (ctx) => {
    const { scheme, newThreshold } = params;
    const dealers = [...params.dealers].sort((a, b) => a - b);
    const newParties = [...params.newParties].sort((a, b) => a - b);
    if (newThreshold < 2 || newThreshold > newParties.length) throw new ProtocolConfigError(`new threshold must be in [2, ${newParties.length}]`);
    const isDealer = dealers.includes(ctx.self);
    const isNew = newParties.includes(ctx.self);
    if (isDealer && !key) throw new ProtocolConfigError('a dealer needs its old share');
    if (key && (dealers.length !== key.threshold || dealers.some((d) => !key.parties.includes(d)))) throw new ProtocolConfigError(`resharing needs exactly ${key.threshold} old holders as dealers`);
    const Fn = frostSuite(scheme).frost.utils.Fn;
    const c = curveOf(scheme);
    const codec = dealingCodec(scheme, newThreshold);
    const shareCodec = struct<{ share: Bytes }>({ share: frostSuite(scheme).scalar });

    let send: { broadcast?: Uint8Array; direct?: Map<PartyId, Uint8Array> } = {};
    let ownDealing: Dealing | undefined;
    let ownShareForSelf: bigint | undefined;
    let coefficients: bigint[] = [];
    if (isDealer) {
      const lambda = lagrangeCoefficient(Fn, dealers.map(BigInt), BigInt(ctx.self));
      const w = Fn.mul(lambda, Fn.fromBytes(key!.signingShare));
      coefficients = [w, ...Array.from({ length: newThreshold - 1 }, () => Fn.create(BigInt('0x' + Buffer.from(ctx.rng(48)).toString('hex'))))];
      const evaluate = (x: number) => coefficients.reduceRight((acc, a) => Fn.add(Fn.mul(acc, BigInt(x)), a), 0n);
      ownDealing = {
        oldThreshold: key!.threshold,
        oldParties: [...key!.parties],
        groupKey: key!.groupKey,
        oldVerifyingShares: new Map(key!.verifyingShares),
        chainCode: key!.chainCode ? [key!.chainCode] : [],
        commitment: coefficients.map((a) => c.ser(a === 0n ? c.zero : c.base.multiply(a))),
      };
      const direct = new Map<PartyId, Uint8Array>();
      for (const j of newParties) {
        if (j === ctx.self) ownShareForSelf = evaluate(j);
        else direct.set(j, encodeCbor(shareCodec, { share: Fn.toBytes(evaluate(j)) as Bytes }));
      }
      send = { broadcast: encodeCbor(codec, ownDealing), direct };
    }
    const destroy = () => coefficients.fill(0n);

    const otherDealers = dealers.filter((d) => d !== ctx.self);
    const collect = round<FrostKeyShare | ReshareDealt, Dealing, { share: Bytes }>({
      number: 1,
      broadcast: codec,
      direct: shareCodec,
      senders: isNew ? otherDealers : [],
      destroy,
      finish: ({ broadcasts, direct }) => {
        if (!isNew) return { send: {}, output: { dealt: true } };
        const dealings = new Map<PartyId, Dealing>([...broadcasts]);
        if (ownDealing) dealings.set(ctx.self, ownDealing);
        // Every dealer must describe the same old key.
        const reference = [...dealings.values()][0]!;
        const oldPublic = (d: Dealing) => encodeCbor(codec, { ...d, commitment: reference.commitment });
        const refBytes = oldPublic(reference);
        const inconsistent = [...dealings].filter(([, d]) => !constantTimeEqual(oldPublic(d), refBytes)).map(([from]) => from);
        if (inconsistent.length) throw new ProtocolAbort('invalid_message', inconsistent, 'dealers disagree on the key being reshared');
        // Each dealer deals exactly its real additive share: D_{i,0} = λ_i·V_i.
        const bad: PartyId[] = [];
        for (const [i, d] of dealings) {
          const V = reference.oldVerifyingShares.get(i);
          const lambda = lagrangeCoefficient(Fn, dealers.map(BigInt), BigInt(i));
          if (!V || !c.parse(d.commitment[0]!).equals(mulU(c.parse(V), lambda))) bad.push(i);
        }
        if (bad.length) throw new ProtocolAbort('invalid_share', bad, `dealer(s) ${bad.join(', ')} dealt something other than their share`);
        const summed = Array.from({ length: newThreshold }, (_, k) => [...dealings.values()].reduce((acc, d) => acc.add(c.parse(d.commitment[k]!)), c.zero));
        if (!summed[0]!.equals(c.parse(reference.groupKey))) throw new ProtocolAbort('invalid_share', [], 'the dealings do not add up to the group key');
        const evalAt = (pts: readonly P[], x: number) => pts.reduceRight((acc, p) => mulU(acc, BigInt(x)).add(p), c.zero);
        let y = ownShareForSelf ?? 0n;
        for (const [, s] of direct) y = Fn.add(y, Fn.fromBytes(s.share));
        if (!mulU(c.base, y).equals(evalAt(summed, ctx.self))) {
          const culprits = [...direct]
            .filter(([from, s]) => !mulU(c.base, Fn.fromBytes(s.share)).equals(evalAt(dealings.get(from)!.commitment.map(c.parse), ctx.self)))
            .map(([from]) => from);
          throw new ProtocolAbort('invalid_share', culprits, 'reshared share rejected');
        }
        const next: FrostKeyShare = {
          scheme,
          self: ctx.self,
          threshold: newThreshold,
          parties: newParties,
          groupKey: reference.groupKey,
          commitments: summed.map(c.ser),
          verifyingShares: new Map(newParties.map((p) => [p, c.ser(evalAt(summed, p))])),
          signingShare: Fn.toBytes(y) as Bytes,
          ...(reference.chainCode[0] ? { chainCode: reference.chainCode[0] } : {}),
        };
        return { send: {}, output: next };
      },
    });
    return { send, next: collect };
  };
}
