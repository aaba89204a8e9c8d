/**
 * DKLs23 threshold ECDSA signing (Doerner, Kondi, Lee, shelat, eprint 2023/765, Protocol 3.6)
 * for any t of the n holders, three rounds:
 *
 *   round 1: sample the instance key r_i and inversion mask φ_i; broadcast a commitment to
 *            R_i = r_i·G; to each j, as Bob of the multiplication where j is Alice, the OT
 *            extension message (Bob's random input is χ_ij).
 *   round 2: to each j, as Alice with inputs (r_i, sk_i): the multiplication's corrections and
 *            check, Γ^u_ij = c^u_ij·G, Γ^v_ij = c^v_ij·G and ψ_ij = φ_i − χ_ij; broadcast R_i
 *            (opening), and pk_i = sk_i·G.
 *   round 3: check the openings, the multiplications, and the correlations
 *            χ_ij·R_j − Γ^u_ji = d^u_ij·G and χ_ij·pk_j − Γ^v_ji = d^v_ij·G (the γ/ψ check) and
 *            Σ pk_j = PK; broadcast u_i = r_i·(φ_i + Σψ_ji) + Σ(c^u + d^u) and
 *            w_i = H(m)·φ_i + r_x·v_i with v_i = sk_i·(φ_i + Σψ_ji) + Σ(c^v + d^v).
 *   finish:  s = Σw / Σu = (H(m) + r_x·sk)/k; low-S, recovery id, verify.
 *
 * Only u_i and w_i need the message: `dklsPresign` runs rounds 1–2 and round 3's checks ahead
 * and outputs the signer's part of a presignature (R, φ_i, u_i, v_i); presigned.ts sends u_i
 * and w_i once the digest is known. The full protocol is the same code with the digest known
 * from the start (and bound into the transcript).
 *
 * sk_i = λ_i·x_i + ζ_i: the Lagrange-weighted Shamir share plus this session's share of zero
 * (ζ from the pairwise zero-sharing seeds), so the signers hold a fresh additive sharing of sk.
 * Every check failure aborts the session for good; r_i, φ_i and the OT-extension state live
 * only inside it and are dropped (bytes zeroised) on any end.
 *
 * What the adversary of SECURITY.md cannot do here:
 * - replay a session: every OT-derived value is bound to fresh nonces of both parties of the
 *   pair (rvole.ts), so a reused session id reproduces nothing;
 * - make honest signers blame each other: round 1 broadcasts the hash of every public input
 *   (session, protocol, signer set, key, digest, and the caller's context: key id, epoch,
 *   derivation path). Before any OT value is touched each signer compares them; a mismatch is
 *   the coordinator's doing and ends the session with `inputs_mismatch`, naming no signer;
 * - probe Δ across concurrent sessions: with a `guard`, a failed KOS check retires the pair in
 *   the same synchronous step, and no later answer with that Δ is computed, in any session.
 */
import { encodeCbor, type Bytes } from '../core/codec.ts';
import { ProtocolAbort, ProtocolConfigError } from '../core/errors.ts';
import { sessionIdBytes, type PartyId } from '../core/ids.ts';
import { round, type ProtocolStart, type Round, type SessionContext, type Transition } from '../core/party.ts';
import { constantTimeEqual, hashTranscript, zeroize } from '../core/transcript.ts';
import { Secp256k1Encoded } from '../curves/secp256k1-libsecp.ts';
import type { DklsKeyShare } from './keys.ts';
import { sendOnlineShare, type DklsPresignature } from './presigned.ts';
import { aliceRespond, bobFinish, bobStart, type BobState } from './rvole.ts';
import {
  correlationHolds,
  correlationWeight,
  encoded,
  Fn,
  lagrangeAtZero,
  N,
  pairLabel,
  r1b,
  r1d,
  r2b,
  r2d,
  randomScalar,
  scalarBytes,
  signTranscript,
  sumPoints,
  zeroShare,
  type EcdsaSignature,
  type OtPairGuard,
  type Round1Broadcast,
  type Round1Direct,
  type Round2Broadcast,
  type Round2Direct,
} from './sign-parts.ts';

export { lagrangeAtZero, pairLabel, signTranscript, type EcdsaSignature, type OtPairGuard } from './sign-parts.ts';

// v5 / v3: the OT extension's columns come from the TCCR hash of the base-OT seeds
// (ot-extension.ts `kosColumns`) instead of SHAKE256. A node still on an older derivation
// refuses the other's messages as another protocol's (party.ts), so no extension or
// multiplication check runs between the two and neither is blamed for the other's version.
export const dklsSignProtocol = 'dkls23-sign/ecdsa-secp256k1/v5';
export const dklsPresignProtocol = 'dkls23-presign/ecdsa-secp256k1/v3';
/** Several presignatures in one session: instances of `dklsPresignProtocol` in lockstep (core/lockstep.ts). */
export const dklsPresignLockstepProtocol = `${dklsPresignProtocol}/lockstep`;
/**
 * The most presignatures one presigning session makes. Four take the per-session costs of a
 * node (envelopes, claim, audit, store) down to a quarter a presignature; more would lengthen
 * each session (~0.4 MB a message to each peer at four) for little more.
 */
export const DKLS_PRESIGNATURES_PER_SESSION = 4;

export interface DklsSignOptions {
  /**
   * With an aggregator, the other signers send their (u_i, w_i) to it alone and finish with
   * `undefined`; only the aggregator combines and verifies (nodes sign this way: the
   * coordinator needs one signature, and t−1 verifications are saved). Without one, every
   * signer broadcasts and outputs the signature.
   */
  readonly aggregator?: PartyId;
  /** Public inputs the caller binds into the transcript (see `signTranscript`); empty by default. */
  readonly context?: Uint8Array;
  /** Shared retirement of OT-sender setups across this key's sessions (see `OtPairGuard`). */
  readonly guard?: OtPairGuard;
}

/**
 * One signer's state for one session. The secrets (r_i, φ_i, sk_i, the salt and the Bob-side
 * OT state) live only here and are dropped by `destroy` however the session ends; `stage` is
 * the round that holds them, since a round's destroy also runs when it is left normally.
 */
interface SignState<O> {
  readonly ctx: SessionContext;
  readonly share: DklsKeyShare;
  /** What round 3 does with the presignature: send the shares for the digest, or output it. */
  readonly then: (p: DklsPresignature) => Transition<O>;
  readonly signers: readonly PartyId[];
  readonly peers: readonly PartyId[];
  readonly guard: OtPairGuard | undefined;
  /** signTranscript: session, protocol, signer set, key, digest (none when presigning), context. Everything is bound to it. */
  readonly base: Uint8Array;
  readonly secret: { r: bigint; phi: bigint; sk: bigint; readonly salt: Bytes; readonly bob: Map<PartyId, BobState> };
  /** R_i = r_i·G (what round 1 commits to) and pk_i = sk_i·G, encoded. */
  readonly instancePoint: Bytes;
  readonly publicShare: Bytes;
  stage: 1 | 2 | 3;
}

const otLabel = <O>(s: SignState<O>, alice: PartyId, bob: PartyId) => pairLabel(s.base, alice, bob);
const nonceCommitment = <O>(s: SignState<O>, from: PartyId, point: Uint8Array, salt: Uint8Array) => hashTranscript('mpc/dkls23/instance-commitment/v1', s.base, from, point, salt);

function destroy<O>(s: SignState<O>): void {
  s.secret.r = s.secret.phi = s.secret.sk = 0n; // BigInts cannot be wiped; drop them
  for (const b of s.secret.bob.values()) zeroize(b.beta, b.rows);
  s.secret.bob.clear();
  zeroize(s.secret.salt);
}
const destroyIn = <O>(s: SignState<O>, stage: SignState<O>['stage']) => () => {
  if (s.stage === stage) destroy(s);
};

/** Signs a 32-byte digest with the signers `ctx.parties` (at least the threshold, all holders of this key). */
export function dklsSign(share: DklsKeyShare, digest: Uint8Array): ProtocolStart<EcdsaSignature>;
export function dklsSign(share: DklsKeyShare, digest: Uint8Array, opts: DklsSignOptions): ProtocolStart<EcdsaSignature | undefined>;
export function dklsSign(share: DklsKeyShare, digest: Uint8Array, opts: DklsSignOptions = {}): ProtocolStart<EcdsaSignature | undefined> {
  return (ctx) => {
    if (digest.length !== 32) throw new ProtocolConfigError('ECDSA signs a 32-byte digest');
    // The full transcript binds the digest, so it is the inputs hash of the last flight too.
    return round1(start(ctx, share, digest, opts, (p) => sendOnlineShare(p, digest, p.binding, opts.aggregator, 3)));
  };
}

/**
 * Rounds 1–2 and round 3's checks without a message: every signer ends with its part of a
 * presignature for exactly this signer set and key (`dklsSignPresigned` uses it once). With a
 * `context`, it is bound to the caller's public inputs (key id, epoch, path) like a signature.
 */
export function dklsPresign(share: DklsKeyShare, opts: Omit<DklsSignOptions, 'aggregator'> = {}): ProtocolStart<DklsPresignature> {
  return (ctx) => round1(start(ctx, share, undefined, opts, (p) => ({ send: {}, output: p })));
}

/** Checks the inputs and samples the session's secrets: r_i, φ_i, and sk_i = λ_i·x_i + ζ_i. */
function start<O>(ctx: SessionContext, share: DklsKeyShare, digest: Uint8Array | undefined, opts: DklsSignOptions, then: (p: DklsPresignature) => Transition<O>): SignState<O> {
  const { core } = share;
  const signers = ctx.parties;
  if (signers.length < core.threshold) throw new ProtocolConfigError(`${signers.length} signers cannot sign a ${core.threshold}-of-${core.parties.length} key`);
  const strangers = signers.filter((p) => !core.parties.includes(p));
  if (strangers.length) throw new ProtocolConfigError(`parties ${strangers.join(', ')} hold no share of this key`);
  if (ctx.self !== core.self) throw new ProtocolConfigError('the session is for another party');
  const { aggregator, guard } = opts;
  if (aggregator !== undefined && !signers.includes(aggregator)) throw new ProtocolConfigError(`aggregator ${aggregator} is not a signer`);
  const session = sessionIdBytes(ctx.session);
  const r = randomScalar(ctx.rng); // instance key r_i
  const phi = randomScalar(ctx.rng); // inversion mask φ_i
  const sk = (lagrangeAtZero(ctx.self, signers) * Fn.fromBytes(core.signingShare) + zeroShare(share, ctx.self, signers, session)) % N;
  return {
    ctx,
    share,
    then,
    signers,
    peers: signers.filter((p) => p !== ctx.self),
    guard,
    base: signTranscript(ctx.protocol, ctx.session, signers, core.groupKey, digest ?? new Uint8Array(), opts.context ?? new Uint8Array()),
    secret: { r, phi, sk, salt: Uint8Array.from(ctx.rng(32)) as Bytes, bob: new Map() },
    instancePoint: Secp256k1Encoded.baseMultiplySecret(r).toBytes() as Bytes,
    publicShare: Secp256k1Encoded.baseMultiplySecret(sk).toBytes() as Bytes,
    stage: 1,
  };
}

/**
 * Round 1: broadcast the commitment to R_i and the hash of the public inputs; to each peer j,
 * as Bob of the multiplication where j is Alice, the OT-extension message.
 */
function round1<O>(s: SignState<O>): Transition<O> {
  const kos = new Map<PartyId, Uint8Array>();
  for (const j of s.peers) {
    const { state, message } = bobStart(s.share.pairs.get(j)!.otReceiver, otLabel(s, j, s.ctx.self), s.ctx.rng);
    s.secret.bob.set(j, state);
    kos.set(j, encodeCbor(r1d, { u: message.u as Bytes, xTilde: message.xTilde as Bytes, tTilde: message.tTilde as Bytes, nonce: message.nonce as Bytes }));
  }
  return {
    send: { broadcast: encodeCbor(r1b, { commitment: nonceCommitment(s, s.ctx.self, s.instancePoint, s.secret.salt) as Bytes, inputs: s.base as Bytes }), direct: kos },
    next: round2(s),
  };
}

/**
 * Round 2 (on round 1's messages): compare the input hashes, then answer each peer as Alice
 * with inputs (r_i, sk_i): the corrections and check, Γ^u = c^u·G, Γ^v = c^v·G, ψ = φ_i − χ;
 * broadcast the opening of R_i and pk_i.
 */
function round2<O>(s: SignState<O>): Round<O> {
  return round<O, Round1Broadcast, Round1Direct>({
    number: 1,
    broadcast: r1b,
    direct: r1d,
    destroy: destroyIn(s, 1),
    finish: ({ broadcasts, direct }) => {
      // Signers that run with different inputs would fail each other's checks and look like
      // cheats; that is the coordinator's doing, so it ends here, before any OT value is used.
      const disagreeing = s.peers.filter((j) => !constantTimeEqual(broadcasts.get(j)!.inputs, s.base));
      if (disagreeing.length) {
        throw new ProtocolAbort('inputs_mismatch', [], `signers ${disagreeing.join(', ')} were given other inputs (key, epoch, message, path or signer set) than this signer`);
      }
      const { guard } = s;
      const chi = new Map<PartyId, bigint>();
      const c = new Map<PartyId, bigint[]>();
      const send = new Map<PartyId, Uint8Array>();
      const bad: PartyId[] = [];
      // The retirement check, the KOS checks and any retirement they cause, as one step (see OtPairGuard.exclusive).
      const respond = () => {
        const retired = guard ? s.peers.filter((j) => !guard.usable(j)) : [];
        if (retired.length) throw new ProtocolAbort('pair_retired', retired, `the OT setup with ${retired.join(', ')} is retired after a failed check`);
        for (const j of s.peers) {
          const res = aliceRespond(s.share.pairs.get(j)!.otSender, direct.get(j)!, [s.secret.r, s.secret.sk], otLabel(s, s.ctx.self, j), s.ctx.rng);
          if (!res) {
            guard?.retire(j);
            bad.push(j);
            continue;
          }
          const x = s.secret.bob.get(j)!.b;
          chi.set(j, x);
          c.set(j, res.c);
          send.set(
            j,
            encodeCbor(r2d, {
              tau: res.message.tau as Bytes,
              checkU: scalarBytes(res.message.checkU),
              checkDigest: res.message.checkDigest as Bytes,
              gammaU: Secp256k1Encoded.baseMultiplySecret(res.c[0]!).toBytes() as Bytes,
              gammaV: Secp256k1Encoded.baseMultiplySecret(res.c[1]!).toBytes() as Bytes,
              psi: scalarBytes(Fn.create(s.secret.phi - x)),
              nonce: res.message.nonce as Bytes,
            }),
          );
        }
      };
      if (guard?.exclusive) guard.exclusive(respond);
      else respond();
      if (bad.length) throw new ProtocolAbort('consistency_check_failed', bad, 'OT extension consistency check failed');
      s.stage = 2;
      const broadcast = encodeCbor(r2b, { instancePoint: s.instancePoint, salt: s.secret.salt, publicShare: s.publicShare });
      return {
        send: { broadcast, direct: send },
        next: round3(s, new Map([...broadcasts].map(([j, b]) => [j, b.commitment] as const)), chi, c),
      };
    },
  });
}

/**
 * Round 3 (on round 2's messages): check the openings, the multiplications and the γ/ψ
 * correlations, and Σ pk_j = PK; then u_i = r_i·(φ_i + Σψ) + Σ(c^u + d^u) and
 * w_i = H(m)·φ_i + r_x·v_i, to everyone or to the aggregator.
 */
function round3<O>(s: SignState<O>, commitments: ReadonlyMap<PartyId, Uint8Array>, chi: ReadonlyMap<PartyId, bigint>, c: ReadonlyMap<PartyId, bigint[]>): Round<O> {
  return round<O, Round2Broadcast, Round2Direct>({
    number: 2,
    broadcast: r2b,
    direct: r2d,
    destroy: destroyIn(s, 2),
    finish: ({ broadcasts, direct }) => {
      const { peers, secret } = s;
      const badOpenings = peers.filter((j) => {
        const b = broadcasts.get(j)!;
        return !constantTimeEqual(nonceCommitment(s, j, b.instancePoint, b.salt), commitments.get(j)!);
      });
      if (badOpenings.length) throw new ProtocolAbort('invalid_commitment_opening', badOpenings, 'instance point does not open its round-1 commitment');
      const instances: Uint8Array[] = [s.instancePoint];
      const publicShares: Uint8Array[] = [s.publicShare];
      let psiSum = 0n;
      let uAcc = 0n;
      let vAcc = 0n;
      const bad: PartyId[] = [];
      for (const j of peers) {
        const b = broadcasts.get(j)!;
        const m = direct.get(j)!;
        const d = bobFinish(secret.bob.get(j)!, { nonce: m.nonce, tau: m.tau, checkU: Fn.fromBytes(m.checkU), checkDigest: m.checkDigest });
        secret.bob.delete(j);
        if (!d) {
          bad.push(j);
          continue;
        }
        const x = chi.get(j)!;
        // The γ/ψ check, that j used r_j and sk_j (the openings of R_j and pk_j) as Alice.
        const rho = correlationWeight(s.ctx.rng);
        if (!correlationHolds({ Rj: b.instancePoint, pkj: b.publicShare, gammaU: m.gammaU, gammaV: m.gammaV }, x, rho, (d[0]! + rho * d[1]!) % N)) {
          bad.push(j);
          continue;
        }
        instances.push(b.instancePoint);
        publicShares.push(b.publicShare);
        psiSum += Fn.fromBytes(m.psi);
        uAcc += c.get(j)![0]! + d[0]!;
        vAcc += c.get(j)![1]! + d[1]!;
      }
      if (bad.length) throw new ProtocolAbort('consistency_check_failed', bad, 'multiplication or γ/ψ consistency check failed');
      if (!sumPoints(publicShares).equals(encoded(s.share.core.groupKey))) throw new ProtocolAbort('consistency_check_failed', [], 'the public key shares do not sum to the key');
      const R = sumPoints(instances);
      if (R.isZero()) throw new ProtocolAbort('invalid_signature', [], 'instance points sum to the identity');
      const bigPhi = (secret.phi + psiSum) % N;
      const presignature: DklsPresignature = {
        self: s.ctx.self,
        signers: s.signers,
        groupKey: s.share.core.groupKey,
        binding: s.base,
        instance: R.toBytes(),
        phi: secret.phi,
        u: (secret.r * bigPhi + uAcc) % N,
        v: (secret.sk * bigPhi + vAcc) % N,
      };
      s.stage = 3;
      destroy(s);
      return s.then(presignature);
    },
  });
}
