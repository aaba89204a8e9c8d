/**
 * Distributed key generation without a dealer: the FROST / Pedersen DKG with proofs of
 * knowledge (RFC 9591 context; Zcash `keys::dkg` part1/part2/part3 shape). Part 1 is noble's
 * `DKG.round1`; parts 2 and 3 use `dkg-math.ts` (batched checks, parse-once points) so large
 * committees finish, with results equal to noble's `DKG.round2/3`. Round 1 is a reliable
 * broadcast (echoed, so an equivocating party is caught and blamed); round 2 sends each party
 * its secret share point-to-point.
 *
 * The DKG also agrees on a 32-byte chain code for non-hardened (BIP32-style) derivation:
 * each party commits to a random contribution ρ_i in round 1 and opens it in round 2;
 * chainCode = H(session, ρ_1, ..., ρ_n) in party order.
 */
import type { DKG_Secret } from '@noble/curves/abstract/frost.js';
import { array, bytes, encodeCbor, struct, type Bytes, type Codec } from '../core/codec.ts';
import { ProtocolAbort } from '../core/errors.ts';
import { sessionIdBytes, type PartyId } from '../core/ids.ts';
import { round, type ProtocolStart, type Round, type SessionContext, type Transition } from '../core/party.ts';
import { constantTimeEqual, hashTranscript, zeroize } from '../core/transcript.ts';
import { combineShares, evaluatePolynomial, proveKnowledge, shareMatchesCommitment, verifyProofOfKnowledge } from './dkg-math.ts';
import { checkThreshold, type FrostKeyShare } from './keys.ts';
import { frostSuite, nobleRng, type FrostScheme } from '../curves/ciphersuites.ts';

export interface FrostDkgParams {
  readonly scheme: FrostScheme;
  readonly threshold: number;
}

export const frostDkgProtocol = (scheme: FrostScheme): string => `frost-dkg/${scheme}/v2`;

interface Round1Payload {
  /** H(session, sender, ρ_i): commits to this party's chain-code contribution. */
  chainCodeCommitment: Bytes;
  commitment: Bytes[];
  proofOfKnowledge: Bytes;
}
interface Round2Payload {
  signingShare: Bytes;
  /** ρ_i, the same to every recipient (the round-1 commitment pins it). */
  chainCodeContribution: Bytes;
}

/** The commitment each party broadcasts in round 1 to its 32-byte chain-code contribution. */
export function chainCodeCommitment(session: string, from: PartyId, contribution: Uint8Array): Uint8Array {
  return hashTranscript('mpc/frost-dkg/chain-code-commitment/v1', session, from, contribution);
}

/**
 * The joint chain code: a hash of every party's contribution in party order. Each contribution
 * was committed (and the commitment reliably broadcast) before any was revealed, so no party
 * can choose its contribution after seeing the others' and bias the result.
 */
export function jointChainCode(session: string, contributions: readonly Uint8Array[]): Uint8Array {
  return hashTranscript('mpc/frost-dkg/chain-code/v1', session, ...contributions);
}

/** One party's DKG: its polynomial (noble's DKG secret), its chain-code contribution, and the round codecs. */
interface DkgState {
  readonly ctx: SessionContext;
  readonly params: FrostDkgParams;
  readonly secret: DKG_Secret;
  readonly ownCommitment: readonly Uint8Array[];
  readonly ownContribution: Uint8Array;
  readonly round1Codec: Codec<Round1Payload>;
  readonly round2Codec: Codec<Round2Payload>;
  /** Once part 3 owns the secret, part 2's round must not clean it. */
  handedOver: boolean;
}

const destroySecret = (s: DkgState) => frostSuite(s.params.scheme).frost.DKG.clean(s.secret);

export function frostDkg(params: FrostDkgParams): ProtocolStart<FrostKeyShare> {
  return (ctx) => part1(ctx, params);
}

/** part1: commit to a random polynomial and to a chain-code contribution; prove knowledge of the constant term. */
function part1(ctx: SessionContext, params: FrostDkgParams): Transition<FrostKeyShare> {
  const suite = frostSuite(params.scheme);
  checkThreshold(params.threshold, ctx.parties.length);
  const r1 = suite.frost.DKG.round1(suite.identifier(ctx.self), { min: params.threshold, max: ctx.parties.length }, undefined, nobleRng(ctx.rng));
  const s: DkgState = {
    ctx,
    params,
    secret: r1.secret,
    ownCommitment: r1.public.commitment,
    ownContribution: Uint8Array.from(ctx.rng(32)),
    round1Codec: struct<Round1Payload>({ chainCodeCommitment: bytes(32), commitment: array(suite.point, params.threshold), proofOfKnowledge: bytes(suite.signatureBytes) }),
    round2Codec: struct<Round2Payload>({ signingShare: suite.scalar, chainCodeContribution: bytes(32) }),
    handedOver: false,
  };
  const round1 = {
    chainCodeCommitment: chainCodeCommitment(ctx.session, ctx.self, s.ownContribution) as Bytes,
    commitment: r1.public.commitment as Bytes[],
    // Our own proof, bound to this session (noble's is the RFC's, which binds no session).
    proofOfKnowledge: proveKnowledge(params.scheme, ctx.self, s.secret.coefficients![0]!, sessionIdBytes(ctx.session), ctx.rng) as Bytes,
  };
  return { send: { broadcast: encodeCbor(s.round1Codec, round1) }, next: part2(s) };
}

/** part2: check every proof of knowledge, then deal each party its share and open the chain-code contribution. */
function part2(s: DkgState): Round<FrostKeyShare> {
  const { ctx, params } = s;
  return round<FrostKeyShare, Round1Payload>({
    number: 1,
    broadcast: s.round1Codec,
    reliable: true,
    destroy: () => {
      if (!s.handedOver) destroySecret(s);
    },
    finish: ({ broadcasts }): Transition<FrostKeyShare> => {
      const culprits = [...broadcasts]
        .filter(([from, p]) => !verifyProofOfKnowledge(params.scheme, { from, commitment: p.commitment, proofOfKnowledge: p.proofOfKnowledge }, sessionIdBytes(ctx.session)))
        .map(([from]) => from);
      if (culprits.length) throw new ProtocolAbort('invalid_proof', culprits, `DKG proof of knowledge rejected from ${culprits.join(', ')}`);
      const direct = new Map<PartyId, Uint8Array>();
      for (const p of broadcasts.keys()) {
        direct.set(p, encodeCbor(s.round2Codec, { signingShare: evaluatePolynomial(params.scheme, s.secret.coefficients!, p) as Bytes, chainCodeContribution: s.ownContribution as Bytes }));
      }
      s.handedOver = true;
      const dealt = new Map([...broadcasts].map(([from, p]) => [from, p.commitment] as const));
      const chainCommitments = new Map([...broadcasts].map(([from, p]) => [from, p.chainCodeCommitment] as const));
      return { send: { direct }, next: part3(s, dealt, chainCommitments, evaluatePolynomial(params.scheme, s.secret.coefficients!, ctx.self)) };
    },
  });
}

/** part3: check the received shares in one batch, combine them, derive every verifying share and the joint chain code. */
function part3(s: DkgState, dealt: ReadonlyMap<PartyId, readonly Uint8Array[]>, chainCommitments: ReadonlyMap<PartyId, Uint8Array>, mine: Uint8Array): Round<FrostKeyShare> {
  const { ctx, params } = s;
  return round<FrostKeyShare, never, Round2Payload>({
    number: 2,
    direct: s.round2Codec,
    destroy: () => {
      zeroize(mine);
      destroySecret(s);
    },
    finish: ({ direct }) => {
      const badOpenings = [...direct]
        .filter(([from, p]) => !constantTimeEqual(chainCodeCommitment(ctx.session, from, p.chainCodeContribution), chainCommitments.get(from)!))
        .map(([from]) => from);
      if (badOpenings.length) throw new ProtocolAbort('invalid_commitment_opening', badOpenings, `chain-code contribution does not open its commitment: ${badOpenings.join(', ')}`);
      const chainCode = jointChainCode(
        ctx.session,
        ctx.parties.map((p) => (p === ctx.self ? s.ownContribution : direct.get(p)!.chainCodeContribution)),
      ) as Bytes;
      const commitments = new Map<number, readonly Uint8Array[]>([[ctx.self, s.ownCommitment], ...dealt]);
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
        chainCode,
      };
      return { send: {}, output };
    },
  });
}
