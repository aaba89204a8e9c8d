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
import { array, bytes, encodeCbor, party, partyMap, struct, uint, type Bytes, type Codec } from '../core/codec.ts';
import { ProtocolAbort, ProtocolConfigError } from '../core/errors.ts';
import type { PartyId } from '../core/ids.ts';
import { lagrangeCoefficient } from '../core/lagrange.ts';
import { round, type ProtocolStart, type Round, type SessionContext, type Transition } from '../core/party.ts';
import { constantTimeEqual } from '../core/transcript.ts';
import type { FrostKeyShare } from './keys.ts';
import { frostSuite, type FrostScheme } from '../curves/ciphersuites.ts';
import { add, eq, mulBase, mulUnsafe, type GroupElement } from '../curves/group.ts';

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

/** One party's resharing: who deals and who receives, the codecs, and (a dealer's) own dealing and polynomial. */
interface ReshareState {
  readonly ctx: SessionContext;
  readonly scheme: FrostScheme;
  readonly dealers: readonly PartyId[];
  readonly newParties: readonly PartyId[];
  readonly newThreshold: number;
  readonly codec: Codec<Dealing>;
  readonly shareCodec: Codec<{ share: Bytes }>;
  /** Secret: a dealer's polynomial g_i (empty for a party that only receives); wiped when the round ends. */
  readonly coefficients: bigint[];
  readonly ownDealing: Dealing | undefined;
  readonly ownShareForSelf: bigint | undefined;
}

/**
 * One party's side: `key` is its old share when it deals (else undefined). `ctx.parties` must be
 * dealers ∪ newParties.
 */
export function frostReshare(params: ReshareParams, key: FrostKeyShare | undefined): ProtocolStart<FrostKeyShare | ReshareDealt> {
  return (ctx) => {
    const dealers = [...params.dealers].sort((a, b) => a - b);
    const newParties = [...params.newParties].sort((a, b) => a - b);
    const { scheme, newThreshold } = params;
    if (newThreshold < 2 || newThreshold > newParties.length) throw new ProtocolConfigError(`new threshold must be in [2, ${newParties.length}]`);
    if (dealers.includes(ctx.self) && !key) throw new ProtocolConfigError('a dealer needs its old share');
    if (key && (dealers.length !== key.threshold || dealers.some((d) => !key.parties.includes(d)))) throw new ProtocolConfigError(`resharing needs exactly ${key.threshold} old holders as dealers`);
    const base = { ctx, scheme, dealers, newParties, newThreshold, codec: dealingCodec(scheme, newThreshold), shareCodec: struct<{ share: Bytes }>({ share: frostSuite(scheme).scalar }) };
    if (!key || !dealers.includes(ctx.self)) {
      const s: ReshareState = { ...base, coefficients: [], ownDealing: undefined, ownShareForSelf: undefined };
      return { send: {}, next: receive(s) };
    }
    return deal(base, key);
  };
}

/**
 * A dealer's round 1: w_i = λ_i·x_i, a fresh polynomial g_i of the new degree with g_i(0) = w_i,
 * its commitments with the old public package to everyone, g_i(j) to each new holder j.
 */
function deal(base: Omit<ReshareState, 'coefficients' | 'ownDealing' | 'ownShareForSelf'>, key: FrostKeyShare): Transition<FrostKeyShare | ReshareDealt> {
  const { ctx, scheme, dealers, newParties, newThreshold } = base;
  const Fn = frostSuite(scheme).frost.utils.Fn;
  const group = frostSuite(scheme).group;
  const lambda = lagrangeCoefficient(Fn, dealers.map(BigInt), BigInt(ctx.self));
  const w = Fn.mul(lambda, Fn.fromBytes(key.signingShare));
  const coefficients = [w, ...Array.from({ length: newThreshold - 1 }, () => Fn.create(BigInt('0x' + Buffer.from(ctx.rng(48)).toString('hex'))))];
  const evaluate = (x: number) => coefficients.reduceRight((acc, a) => Fn.add(Fn.mul(acc, BigInt(x)), a), 0n);
  const ownDealing: Dealing = {
    oldThreshold: key.threshold,
    oldParties: [...key.parties],
    groupKey: key.groupKey,
    oldVerifyingShares: new Map(key.verifyingShares),
    chainCode: key.chainCode ? [key.chainCode] : [],
    commitment: coefficients.map((a) => group.serialize(mulBase(group, a))),
  };
  let ownShareForSelf: bigint | undefined;
  const direct = new Map<PartyId, Uint8Array>();
  for (const j of newParties) {
    if (j === ctx.self) ownShareForSelf = evaluate(j);
    else direct.set(j, encodeCbor(base.shareCodec, { share: Fn.toBytes(evaluate(j)) as Bytes }));
  }
  const s: ReshareState = { ...base, coefficients, ownDealing, ownShareForSelf };
  return { send: { broadcast: encodeCbor(base.codec, ownDealing), direct }, next: receive(s) };
}

/**
 * Round 1's messages: a dealer that leaves is done; a new holder checks that every dealer
 * describes the same old key, that each dealt exactly its share (D_{i,0} = λ_i·V_i), that the
 * dealings add up to the group key, and its shares against the commitments (batched; per
 * dealer on failure, to blame), then sums its new share.
 */
function receive(s: ReshareState): Round<FrostKeyShare | ReshareDealt> {
  const { ctx, scheme, dealers, newParties, newThreshold, codec } = s;
  const isNew = newParties.includes(ctx.self);
  const Fn = frostSuite(scheme).frost.utils.Fn;
  const c = frostSuite(scheme).group;
  return round<FrostKeyShare | ReshareDealt, Dealing, { share: Bytes }>({
    number: 1,
    broadcast: codec,
    direct: s.shareCodec,
    senders: isNew ? dealers.filter((d) => d !== ctx.self) : [],
    destroy: () => s.coefficients.fill(0n),
    finish: ({ broadcasts, direct }) => {
      if (!isNew) return { send: {}, output: { dealt: true } };
      const dealings = new Map<PartyId, Dealing>([...broadcasts]);
      if (s.ownDealing) dealings.set(ctx.self, s.ownDealing);
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
        if (!V || !eq(c.decode(d.commitment[0]!), mulUnsafe(c.decode(V), lambda))) bad.push(i);
      }
      if (bad.length) throw new ProtocolAbort('invalid_share', bad, `dealer(s) ${bad.join(', ')} dealt something other than their share`);
      const summed = Array.from({ length: newThreshold }, (_, k) => [...dealings.values()].reduce((acc, d) => add(acc, c.decode(d.commitment[k]!)), c.zero));
      if (!eq(summed[0]!, c.decode(reference.groupKey))) throw new ProtocolAbort('invalid_share', [], 'the dealings do not add up to the group key');
      const evalAt = (pts: readonly GroupElement[], x: number) => pts.reduceRight((acc, p) => add(mulUnsafe(acc, BigInt(x)), p), c.zero);
      let y = s.ownShareForSelf ?? 0n;
      for (const [, share] of direct) y = Fn.add(y, Fn.fromBytes(share.share));
      if (!eq(mulUnsafe(c.base, y), evalAt(summed, ctx.self))) {
        const culprits = [...direct]
          .filter(([from, share]) => !eq(mulUnsafe(c.base, Fn.fromBytes(share.share)), evalAt(dealings.get(from)!.commitment.map(c.decode), ctx.self)))
          .map(([from]) => from);
        throw new ProtocolAbort('invalid_share', culprits, 'reshared share rejected');
      }
      const next: FrostKeyShare = {
        scheme,
        self: ctx.self,
        threshold: newThreshold,
        parties: newParties,
        groupKey: reference.groupKey,
        commitments: summed.map(c.serialize),
        verifyingShares: new Map(newParties.map((p) => [p, c.serialize(evalAt(summed, p))])),
        signingShare: Fn.toBytes(y) as Bytes,
        ...(reference.chainCode[0] ? { chainCode: reference.chainCode[0] } : {}),
      };
      return { send: {}, output: next };
    },
  });
}
