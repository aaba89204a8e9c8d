/**
 * Share repair (the repairable threshold scheme of Laing & Stinson, as in Zcash
 * `frost-core::keys::repairable`): t helpers rebuild the lost share of participant r without
 * anyone, r included, learning anything but r's share.
 *
 *   step 1  helper i computes λ_i·s_i, where λ_i interpolates the helpers' shares at r, and
 *           splits it into t random values δ_{i,j} (one per helper j) that sum to it;
 *   step 2  helper j sums what it received: σ_j = Σ_i δ_{i,j}, and sends σ_j to r;
 *   step 3  r sums: s_r = Σ_j σ_j, and checks s_r·G against its verifying share.
 *
 * As a session: round 1 — helpers send δ_{i,j} to each other helper and broadcast the key's
 * public package (r takes it only if every helper sent the same one); round 2 — σ_j to r.
 */
import { array, bytes, encodeCbor, party, partyMap, struct, uint, type Bytes, type Codec } from '../core/codec.ts';
import { ProtocolAbort, ProtocolConfigError } from '../core/errors.ts';
import type { PartyId, Rng } from '../core/ids.ts';
import { lagrangeCoefficient } from '../core/lagrange.ts';
import { round, type ProtocolStart, type Round, type Transition } from '../core/party.ts';
import { constantTimeEqual } from '../core/transcript.ts';
import type { FrostKeyShare } from './keys.ts';
import { frostSuite, type FrostScheme } from '../curves/ciphersuites.ts';
import { mulBase } from '../curves/group.ts';

export const frostRepairProtocol = (scheme: FrostScheme): string => `frost-repair/${scheme}/v1`;

type Fn = ReturnType<typeof frostSuite>['frost']['utils']['Fn'];
const fieldOf = (scheme: FrostScheme): Fn => frostSuite(scheme).frost.utils.Fn;

/** Step 1: helper `self`'s contributions δ_{self,j}, one per helper j, summing to λ_self·s_self. */
export function repairStep1(share: FrostKeyShare, helpers: readonly PartyId[], lost: PartyId, rng: Rng): Map<PartyId, Uint8Array> {
  const Fn = fieldOf(share.scheme);
  if (helpers.includes(lost)) throw new ProtocolConfigError('the participant being repaired cannot help');
  if (!helpers.includes(share.self)) throw new ProtocolConfigError('this party is not one of the helpers');
  if (helpers.length < share.threshold) throw new ProtocolConfigError(`repair needs ${share.threshold} helpers`);
  const lambda = lagrangeCoefficient(Fn, helpers.map(BigInt), BigInt(share.self), BigInt(lost));
  const value = Fn.mul(lambda, Fn.fromBytes(share.signingShare));
  const out = new Map<PartyId, Uint8Array>();
  let sum = Fn.ZERO;
  for (const j of helpers.slice(0, -1)) {
    const r = Fn.create(BigInt('0x' + Buffer.from(rng(48)).toString('hex')));
    sum = Fn.add(sum, r);
    out.set(j, Fn.toBytes(r));
  }
  out.set(helpers[helpers.length - 1]!, Fn.toBytes(Fn.sub(value, sum)));
  return out;
}

/** Step 2: σ_j = Σ_i δ_{i,j}. */
export function repairStep2(scheme: FrostScheme, deltas: readonly Uint8Array[]): Uint8Array {
  const Fn = fieldOf(scheme);
  return Fn.toBytes(deltas.reduce((acc, d) => Fn.add(acc, Fn.fromBytes(d)), Fn.ZERO));
}

/** Step 3: s_r = Σ_j σ_j. */
export function repairStep3(scheme: FrostScheme, sigmas: readonly Uint8Array[]): Uint8Array {
  return repairStep2(scheme, sigmas);
}

/** The public part of a key share: what the repaired participant needs beside its secret. */
interface PublicPackage {
  threshold: number;
  parties: PartyId[];
  groupKey: Bytes;
  commitments: Bytes[];
  verifyingShares: Map<PartyId, Bytes>;
  chainCode: Bytes[];
}

function publicCodec(scheme: FrostScheme): Codec<PublicPackage> {
  const { point } = frostSuite(scheme);
  return struct<PublicPackage>({
    threshold: uint(0xffff),
    parties: array(party, { min: 2, max: 0xffff }),
    groupKey: point,
    commitments: array(point, { min: 1, max: 0xffff }),
    verifyingShares: partyMap(point, { min: 2, max: 0xffff }),
    chainCode: array(bytes(32), { min: 0, max: 1 }),
  });
}

const passThrough = <O>(number: number, next: () => Transition<O>): Round<O> => round<O>({ number, senders: [], finish: next });

/** What a helper ends with: nothing secret, only that it helped. */
export interface RepairHelped {
  readonly helped: PartyId;
}

/** A helper's side: `ctx.parties` are the helpers and `lost`. */
export function frostRepairHelper(share: FrostKeyShare, lost: PartyId): ProtocolStart<RepairHelped> {
  return (ctx) => {
    const helpers = ctx.parties.filter((p) => p !== lost);
    const deltas = repairStep1(share, helpers, lost, ctx.rng);
    const { scalar } = frostSuite(share.scheme);
    const deltaCodec = struct<{ delta: Bytes }>({ delta: scalar });
    const sigmaCodec = struct<{ sigma: Bytes }>({ sigma: scalar });
    const pub = publicCodec(share.scheme);
    const mine: PublicPackage = {
      threshold: share.threshold,
      parties: [...share.parties],
      groupKey: share.groupKey,
      commitments: [...share.commitments],
      verifyingShares: new Map(share.verifyingShares),
      chainCode: share.chainCode ? [share.chainCode] : [],
    };
    const ownDelta = deltas.get(ctx.self)!;
    const destroy = () => {
      for (const d of deltas.values()) d.fill(0);
    };
    const collect = round<RepairHelped, PublicPackage, { delta: Bytes }>({
      number: 1,
      broadcast: pub,
      direct: deltaCodec,
      senders: helpers.filter((h) => h !== ctx.self),
      destroy,
      finish: ({ broadcasts, direct }) => {
        const ownPkg = encodeCbor(pub, mine);
        const disagree = [...broadcasts].filter(([, p]) => !constantTimeEqual(encodeCbor(pub, p), ownPkg)).map(([from]) => from);
        if (disagree.length) throw new ProtocolAbort('invalid_message', disagree, 'helpers disagree on the key being repaired');
        const sigma = repairStep2(share.scheme, [ownDelta, ...[...direct.values()].map((d) => d.delta)]);
        return { send: { direct: new Map([[lost, encodeCbor(sigmaCodec, { sigma: sigma as Bytes })]]) }, next: passThrough(2, () => ({ send: {}, output: { helped: lost } })) };
      },
    });
    const direct = new Map<PartyId, Uint8Array>();
    for (const h of helpers) if (h !== ctx.self) direct.set(h, encodeCbor(deltaCodec, { delta: deltas.get(h)! as Bytes }));
    return { send: { broadcast: encodeCbor(pub, mine), direct }, next: collect };
  };
}

/** The repaired participant's side: it brings nothing and leaves with its share. */
export function frostRepairTarget(scheme: FrostScheme): ProtocolStart<FrostKeyShare> {
  return (ctx) => {
    const helpers = ctx.parties.filter((p) => p !== ctx.self);
    const pub = publicCodec(scheme);
    const sigmaCodec = struct<{ sigma: Bytes }>({ sigma: frostSuite(scheme).scalar });
    const group = frostSuite(scheme).group;
    const receivePackage = round<FrostKeyShare, PublicPackage>({
      number: 1,
      broadcast: pub,
      senders: helpers,
      finish: ({ broadcasts }) => {
        const [first, ...rest] = [...broadcasts.values()];
        const encoded = encodeCbor(pub, first!);
        const disagree = [...broadcasts].filter(([, p]) => !constantTimeEqual(encodeCbor(pub, p), encoded)).map(([from]) => from);
        if (disagree.length || rest.length + 1 !== helpers.length) throw new ProtocolAbort('invalid_message', disagree, 'helpers disagree on the key being repaired');
        const pkg = first!;
        if (!pkg.parties.includes(ctx.self)) throw new ProtocolAbort('invalid_message', helpers, 'the key has no share for this party');
        const expected = pkg.verifyingShares.get(ctx.self)!;
        return {
          send: {},
          next: round<FrostKeyShare, never, { sigma: Bytes }>({
            number: 2,
            direct: sigmaCodec,
            senders: helpers,
            finish: ({ direct }) => {
              const share = repairStep3(scheme, [...direct.values()].map((d) => d.sigma));
              const s = fieldOf(scheme).fromBytes(share);
              const gotBytes = s === 0n ? new Uint8Array() : group.serialize(mulBase(group, s));
              // The sum cannot say which helper lied; the session aborts and the repair is retried with other helpers.
              if (!constantTimeEqual(gotBytes, expected)) throw new ProtocolAbort('invalid_share', [], 'the repaired share does not match its verifying share');
              return {
                send: {},
                output: {
                  scheme,
                  self: ctx.self,
                  threshold: pkg.threshold,
                  parties: pkg.parties,
                  groupKey: pkg.groupKey,
                  commitments: pkg.commitments,
                  verifyingShares: pkg.verifyingShares,
                  signingShare: share as Bytes,
                  ...(pkg.chainCode[0] ? { chainCode: pkg.chainCode[0] } : {}),
                },
              };
            },
          }),
        };
      },
    });
    return { send: {}, next: receivePackage };
  };
}
