/**
 * Distributed key generation without a dealer: the FROST / Pedersen DKG with proofs of
 * knowledge (RFC 9591 context; Zcash `keys::dkg` part1/part2/part3 shape), run on noble's
 * `DKG.round1/2/3`. Round 1 is a reliable broadcast (echoed, so an equivocating party is
 * caught and blamed); round 2 sends each party its secret share point-to-point.
 */
import type { DKG_Round1, DKG_Secret } from '@noble/curves/abstract/frost.js';
import { array, bytes, encodeCbor, struct, type Bytes } from '../core/codec.ts';
import { ProtocolAbort } from '../core/errors.ts';
import type { PartyId, Rng } from '../core/ids.ts';
import { round, type ProtocolStart, type Transition } from '../core/party.ts';
import { checkThreshold, type FrostKeyShare } from './keys.ts';
import { frostSuite, nobleRng, type FrostScheme, type FrostSuite } from './suites.ts';

export interface FrostDkgParams {
  readonly scheme: FrostScheme;
  readonly threshold: number;
}

export const frostDkgProtocol = (scheme: FrostScheme): string => `frost-dkg/${scheme}/v1`;

interface Round1Payload {
  commitment: Bytes[];
  proofOfKnowledge: Bytes;
}
interface Round2Payload {
  signingShare: Bytes;
}

/** part1: commit to a random polynomial and prove knowledge of its constant term. */
export function frostDkg(params: FrostDkgParams): ProtocolStart<FrostKeyShare> {
  return (ctx) => {
    const suite = frostSuite(params.scheme);
    const { frost } = suite;
    const n = ctx.parties.length;
    checkThreshold(params.threshold, n);
    const signers = { min: params.threshold, max: n };
    const r1 = frost.DKG.round1(suite.identifier(ctx.self), signers, undefined, nobleRng(ctx.rng));
    const round1Codec = struct<Round1Payload>({
      commitment: array(suite.point, params.threshold),
      proofOfKnowledge: bytes(suite.signatureBytes),
    });
    const round2Codec = struct<Round2Payload>({ signingShare: suite.scalar });
    const secret: DKG_Secret = r1.secret;
    const destroy = () => frost.DKG.clean(secret);
    let handedOver = false; // once round 2 owns the secret, round 1 must not clean it

    const part3 = (round1: DKG_Round1[]) =>
      round<FrostKeyShare, never, Round2Payload>({
        number: 2,
        direct: round2Codec,
        destroy,
        finish: ({ direct }) => {
          const round2 = [...direct].map(([from, p]) => ({ identifier: suite.identifier(from), signingShare: p.signingShare }));
          let key;
          try {
            key = frost.DKG.round3(secret, round1, round2);
          } catch (e) {
            throw blameShares(suite, ctx.self, params.threshold, n, round1, direct, e);
          }
          const byIdentifier = new Map(ctx.parties.map((p) => [suite.identifier(p), p] as const));
          const verifyingShares = new Map<PartyId, Bytes>();
          for (const [ident, v] of Object.entries(key.public.verifyingShares)) verifyingShares.set(byIdentifier.get(ident)!, v);
          const output: FrostKeyShare = {
            scheme: params.scheme,
            self: ctx.self,
            threshold: params.threshold,
            parties: ctx.parties,
            groupKey: key.public.commitments[0]!,
            commitments: key.public.commitments,
            verifyingShares,
            signingShare: key.secret.signingShare,
          };
          return { send: {}, output };
        },
      });

    /** part2: check every proof of knowledge, then deal each party its share. */
    const part2 = round<FrostKeyShare, Round1Payload>({
      number: 1,
      broadcast: round1Codec,
      reliable: true,
      destroy: () => {
        if (!handedOver) destroy();
      },
      finish: ({ broadcasts }): Transition<FrostKeyShare> => {
        const round1: DKG_Round1[] = [...broadcasts].map(([from, p]) => ({
          identifier: suite.identifier(from),
          commitment: p.commitment,
          proofOfKnowledge: p.proofOfKnowledge,
        }));
        let shares: Record<string, { signingShare: Uint8Array }>;
        try {
          shares = frost.DKG.round2(secret, round1);
        } catch (e) {
          throw blameProofs(suite, ctx.self, params.threshold, n, ctx.parties, round1, ctx.rng, e);
        }
        const direct = new Map<PartyId, Uint8Array>();
        for (const p of broadcasts.keys()) {
          const share = shares[suite.identifier(p)]!;
          direct.set(p, encodeCbor(round2Codec, { signingShare: share.signingShare }));
        }
        handedOver = true;
        return { send: { direct }, next: part3(round1) };
      },
    });

    return { send: { broadcast: encodeCbor(round1Codec, { commitment: r1.public.commitment, proofOfKnowledge: r1.public.proofOfKnowledge }) }, next: part2 };
  };
}

/**
 * noble reports an invalid proof without saying whose. Only on that failure path, check each
 * package alone: beside freshly made valid packages for every other party, so the check of
 * the suspect is the only one that can fail.
 */
function blameProofs(
  suite: FrostSuite,
  self: PartyId,
  t: number,
  n: number,
  parties: readonly PartyId[],
  round1: DKG_Round1[],
  rng: Rng,
  cause: unknown,
): ProtocolAbort {
  const signers = { min: t, max: n };
  const decoys = new Map(parties.filter((p) => p !== self).map((p) => [suite.identifier(p), suite.frost.DKG.round1(suite.identifier(p), signers, undefined, nobleRng(rng)).public] as const));
  const culprits: PartyId[] = [];
  for (const pkg of round1) {
    const probe = suite.frost.DKG.round1(suite.identifier(self), signers, undefined, nobleRng(rng)).secret;
    const others = [...decoys.values()].map((d) => (d.identifier === pkg.identifier ? pkg : d));
    try {
      suite.frost.DKG.round2(probe, others);
    } catch {
      culprits.push(parties.find((p) => suite.identifier(p) === pkg.identifier)!);
    } finally {
      suite.frost.DKG.clean(probe);
    }
  }
  return new ProtocolAbort('invalid_proof', culprits, `DKG proof of knowledge rejected: ${cause instanceof Error ? cause.message : 'invalid'}`);
}

/** Finds which senders dealt this party a share that does not match their commitments. */
function blameShares(
  suite: FrostSuite,
  self: PartyId,
  t: number,
  n: number,
  round1: DKG_Round1[],
  direct: ReadonlyMap<PartyId, Round2Payload>,
  cause: unknown,
): ProtocolAbort {
  const culprits: PartyId[] = [];
  for (const [from, p] of direct) {
    const commitment = round1.find((r) => r.identifier === suite.identifier(from))!.commitment;
    try {
      suite.frost.validateSecret(
        { identifier: suite.identifier(self), signingShare: p.signingShare },
        { signers: { min: t, max: n }, commitments: commitment, verifyingShares: {} },
      );
    } catch {
      culprits.push(from);
    }
  }
  return new ProtocolAbort('invalid_share', culprits, `DKG share rejected: ${cause instanceof Error ? cause.message : 'invalid'}`);
}
