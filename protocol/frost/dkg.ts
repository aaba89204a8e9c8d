/**
 * Distributed key generation without a dealer: the FROST / Pedersen DKG with proofs of
 * knowledge (RFC 9591 context; Zcash `keys::dkg` part1/part2/part3 shape). Part 1 is noble's
 * `DKG.round1`; parts 2 and 3 use `dkg-math.ts` (batched checks, parse-once points) so large
 * committees finish, with results equal to noble's `DKG.round2/3`. Round 1 is a reliable
 * broadcast (echoed, so an equivocating party is caught and blamed); round 2 sends each party
 * its secret share point-to-point.
 */
import type { DKG_Secret } from '@noble/curves/abstract/frost.js';
import { array, bytes, encodeCbor, struct, type Bytes } from '../core/codec.ts';
import { ProtocolAbort } from '../core/errors.ts';
import type { PartyId } from '../core/ids.ts';
import { round, type ProtocolStart, type Transition } from '../core/party.ts';
import { zeroize } from '../core/transcript.ts';
import { combineShares, evaluatePolynomial, shareMatchesCommitment, verifyProofOfKnowledge } from './dkg-math.ts';
import { checkThreshold, type FrostKeyShare } from './keys.ts';
import { frostSuite, nobleRng, type FrostScheme } from './suites.ts';

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

    const ownCommitment = r1.public.commitment;
    const ownShare = () => evaluatePolynomial(params.scheme, secret.coefficients!, ctx.self);

    /** part3: check the received shares in one batch, combine them, derive every verifying share. */
    const part3 = (dealt: ReadonlyMap<PartyId, readonly Uint8Array[]>, mine: Uint8Array) =>
      round<FrostKeyShare, never, Round2Payload>({
        number: 2,
        direct: round2Codec,
        destroy: () => {
          zeroize(mine);
          destroy();
        },
        finish: ({ direct }) => {
          const commitments = new Map<number, readonly Uint8Array[]>([[ctx.self, ownCommitment], ...dealt]);
          const shares = new Map<number, Uint8Array>([[ctx.self, mine], ...[...direct].map(([from, p]) => [from, p.signingShare] as const)]);
          const key = combineShares(params.scheme, ctx.self, ctx.parties, commitments, shares);
          if (!key) {
            const culprits = [...direct].filter(([from, p]) => !shareMatchesCommitment(params.scheme, ctx.self, p.signingShare, dealt.get(from)!)).map(([from]) => from);
            throw new ProtocolAbort('invalid_share', culprits, `DKG share rejected: ${culprits.length ? `dealt by ${culprits.join(', ')}` : 'shares do not sum to the commitments'}`);
          }
          const output: FrostKeyShare = {
            scheme: params.scheme,
            self: ctx.self,
            threshold: params.threshold,
            parties: ctx.parties,
            groupKey: key.groupKey as Bytes,
            commitments: key.commitments as Bytes[],
            verifyingShares: new Map([...key.verifyingShares].map(([p, v]) => [p as PartyId, v as Bytes])),
            signingShare: key.signingShare as Bytes,
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
        const culprits = [...broadcasts]
          .filter(([from, p]) => !verifyProofOfKnowledge(params.scheme, { from, commitment: p.commitment, proofOfKnowledge: p.proofOfKnowledge }))
          .map(([from]) => from);
        if (culprits.length) throw new ProtocolAbort('invalid_proof', culprits, `DKG proof of knowledge rejected from ${culprits.join(', ')}`);
        const direct = new Map<PartyId, Uint8Array>();
        for (const p of broadcasts.keys()) {
          direct.set(p, encodeCbor(round2Codec, { signingShare: evaluatePolynomial(params.scheme, secret.coefficients!, p) as Bytes }));
        }
        handedOver = true;
        return { send: { direct }, next: part3(new Map([...broadcasts].map(([from, p]) => [from, p.commitment] as const)), ownShare()) };
      },
    });

    return { send: { broadcast: encodeCbor(round1Codec, { commitment: r1.public.commitment, proofOfKnowledge: r1.public.proofOfKnowledge }) }, next: part2 };
  };
}
