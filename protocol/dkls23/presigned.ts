/**
 * DKLs23's last round on its own: signing with a presignature (eprint 2023/765, Protocol 3.6;
 * rounds 1–2 and the checks of round 3 do not depend on the message, sign.ts runs them as
 * `dklsPresign`). What a signer keeps from them is
 *
 *   R = Σ R_j,  φ_i,  u_i = r_i·Φ + Σ(c^u + d^u),  v_i = sk_i·Φ + Σ(c^v + d^v),
 *
 * and once the digest is known it sends u_i and w_i = H(m)·φ_i + r_x·v_i; the aggregator gets
 * s = Σw / Σu. One message flight instead of three.
 *
 * A presignature is single-use: two w_i for different digests give (H(m) − H(m'))·φ_i, hence
 * φ_i, hence v_i and the share. Whoever holds one must make sure it is gone for good before w_i
 * leaves (the node deletes it durably first, node/store/presignatures.ts). It is bound to the
 * key it signs under (a derived or tweaked child is a different key: the presigning transcript
 * holds it), so a presignature cannot be re-aimed at another child after R is known (the
 * additive-derivation attack on presigned ECDSA, Groth–Shoup, Eurocrypt 2022).
 *
 * Every share message carries the hash of the inputs its sender used (the presignature's
 * transcript, this session, the digest, the caller's context): shares over different digests
 * would combine into a signature that does not verify and blame nobody, so the aggregator
 * compares them first and ends with `inputs_mismatch`, the coordinator's doing.
 */
import { array, bytes, decodeCbor, encodeCbor, party, struct, type Bytes } from '../core/codec.ts';
import { ProtocolAbort, ProtocolConfigError } from '../core/errors.ts';
import type { PartyId } from '../core/ids.ts';
import { round, type ProtocolStart, type Round, type Transition } from '../core/party.ts';
import { constantTimeEqual, hashTranscript } from '../core/transcript.ts';
import { frostSuite } from '../curves/ciphersuites.ts';
import { verifyEcdsaLibsecp, type Secp256k1Encoded } from '../curves/secp256k1-libsecp.ts';
import { dklsPoint, encoded, Fn, N, scalarBytes, type EcdsaSignature } from './sign-parts.ts';

export const dklsPresignedSignProtocol = 'dkls23-sign-presigned/ecdsa-secp256k1/v1';

/** One signer's part of a presignature. `phi`, `u` and `v` are secret; drop them after one use. */
export interface DklsPresignature {
  readonly self: PartyId;
  readonly signers: readonly PartyId[];
  /** The key it signs under (SEC1 compressed): the tweaked child for a derived or Taproot key. */
  readonly groupKey: Uint8Array;
  /** The presigning transcript: protocol, session, signer set, key and the caller's context. */
  readonly binding: Uint8Array;
  /** R = Σ R_j, SEC1 compressed. */
  readonly instance: Uint8Array;
  phi: bigint;
  u: bigint;
  v: bigint;
}

const suite = frostSuite('frost-secp256k1');

interface StoredPresignature {
  self: PartyId;
  signers: PartyId[];
  groupKey: Bytes;
  binding: Bytes;
  instance: Bytes;
  phi: Bytes;
  u: Bytes;
  v: Bytes;
}
const storedCodec = struct<StoredPresignature>({
  self: party,
  signers: array(party, { min: 2, max: 1024 }),
  groupKey: dklsPoint,
  binding: bytes(32),
  instance: dklsPoint,
  phi: suite.scalar,
  u: suite.scalar,
  v: suite.scalar,
});

/** The bytes a node seals; zeroise them after sealing. */
export function encodeDklsPresignature(p: DklsPresignature): Uint8Array {
  return encodeCbor(storedCodec, {
    self: p.self,
    signers: [...p.signers],
    groupKey: p.groupKey as Bytes,
    binding: p.binding as Bytes,
    instance: p.instance as Bytes,
    phi: scalarBytes(p.phi),
    u: scalarBytes(p.u),
    v: scalarBytes(p.v),
  });
}

export function decodeDklsPresignature(raw: Uint8Array): DklsPresignature {
  const s = decodeCbor(storedCodec, raw);
  const out = { ...s, phi: Fn.fromBytes(s.phi), u: Fn.fromBytes(s.u), v: Fn.fromBytes(s.v) };
  s.phi.fill(0);
  s.u.fill(0);
  s.v.fill(0);
  return out;
}

/** Drops the secret parts (BigInts cannot be wiped; this removes the last reference). */
export function dropDklsPresignature(p: DklsPresignature): void {
  p.phi = p.u = p.v = 0n;
}

export interface OnlineShare {
  u: Bytes;
  w: Bytes;
  /** The hash of the inputs the sender signed with (see the module comment). */
  inputs: Bytes;
}
export const onlineShareCodec = struct<OnlineShare>({ u: suite.scalar, w: suite.scalar, inputs: bytes(32) });

/** What every signer of one presigned session must agree on. */
function presignedInputs(p: DklsPresignature, protocol: string, session: string, digest: Uint8Array, context: Uint8Array): Uint8Array {
  return hashTranscript('mpc/dkls23/presigned-inputs/v1', p.binding, protocol, session, digest, context);
}

/**
 * Sends u_i and w_i for `digest` (to the aggregator, or to everyone without one) and, where this
 * signer combines, collects the others' in round `roundNumber`. The presignature's secrets are
 * dropped before this returns: the caller must already hold nothing else that could reuse them.
 */
export function sendOnlineShare(p: DklsPresignature, digest: Uint8Array, inputs: Uint8Array, aggregator: PartyId | undefined, roundNumber: number): Transition<EcdsaSignature | undefined> {
  const R = encoded(p.instance);
  const rx = Fn.create(R.x());
  const e = Fn.create(BigInt('0x' + Buffer.from(digest).toString('hex')));
  const u = p.u;
  const w = (e * p.phi + rx * p.v) % N;
  dropDklsPresignature(p);
  const share = encodeCbor(onlineShareCodec, { u: scalarBytes(u), w: scalarBytes(w), inputs: inputs as Bytes });
  const combiner = (): Round<EcdsaSignature | undefined> => combineRound(p, digest, inputs, u, w, R, aggregator, roundNumber);
  if (aggregator === undefined) return { send: { broadcast: share }, next: combiner() };
  if (aggregator === p.self) return { send: {}, next: combiner() };
  return { send: { direct: new Map([[aggregator, share]]) }, next: round({ number: roundNumber, senders: [], finish: () => ({ send: {}, output: undefined }) }) };
}

/** Finish (on the shares): s = Σw / Σu = (H(m) + r_x·sk)/k, low-S, recovery id, verified. */
function combineRound(
  p: DklsPresignature,
  digest: Uint8Array,
  inputs: Uint8Array,
  u: bigint,
  w: bigint,
  R: Secp256k1Encoded,
  aggregator: PartyId | undefined,
  roundNumber: number,
): Round<EcdsaSignature | undefined> {
  return round<EcdsaSignature | undefined, OnlineShare, OnlineShare>({
    number: roundNumber,
    ...(aggregator === undefined ? { broadcast: onlineShareCodec } : { direct: onlineShareCodec }),
    finish: ({ broadcasts, direct }): Transition<EcdsaSignature | undefined> => {
      const received = [...broadcasts, ...direct];
      const disagreeing = received.filter(([, m]) => !constantTimeEqual(m.inputs, inputs)).map(([j]) => j);
      if (disagreeing.length) {
        throw new ProtocolAbort('inputs_mismatch', [], `signers ${disagreeing.join(', ')} were given other inputs (message, presignature, session) than this signer`);
      }
      let uSum = u;
      let wSum = w;
      for (const [, m] of received) {
        uSum += Fn.fromBytes(m.u);
        wSum += Fn.fromBytes(m.w);
      }
      return { send: {}, output: combineSignature(uSum % N, wSum % N, R, digest, p.groupKey) };
    },
  });
}

/** The ECDSA signature from Σu and Σw, verified under `groupKey`; an abort naming no one when it fails. */
function combineSignature(uSum: bigint, wSum: bigint, R: Secp256k1Encoded, digest: Uint8Array, groupKey: Uint8Array): EcdsaSignature {
  if (uSum === 0n) throw new ProtocolAbort('invalid_signature', [], 'the shares of k·φ sum to zero');
  const x = R.x();
  const rx = Fn.create(x);
  let s = Fn.div(wSum, uSum);
  let recoveryId = (R.hasOddY() ? 1 : 0) | (x >= N ? 2 : 0);
  if (s > N >> 1n) {
    s = N - s;
    recoveryId ^= 1;
  }
  const signature = new Uint8Array(64);
  signature.set(Fn.toBytes(rx));
  signature.set(Fn.toBytes(s), 32);
  if (s === 0n || !verifyEcdsaLibsecp(signature, digest, groupKey)) {
    // A signer sent a u_i or w_i that does not fit its multiplications; the protocol cannot tell which.
    throw new ProtocolAbort('invalid_signature', [], 'the combined ECDSA signature does not verify');
  }
  return { signature, recoveryId };
}

/**
 * Signs a 32-byte digest with a presignature, in one flight: the signers are the presignature's
 * (`ctx.parties` must be exactly them). `context`: the caller's public inputs, the same at every signer.
 */
export function dklsSignPresigned(p: DklsPresignature, digest: Uint8Array, opts: { readonly aggregator?: PartyId; readonly context?: Uint8Array } = {}): ProtocolStart<EcdsaSignature | undefined> {
  return (ctx) => {
    if (digest.length !== 32) throw new ProtocolConfigError('ECDSA signs a 32-byte digest');
    if (ctx.self !== p.self) throw new ProtocolConfigError('the presignature is another party\'s');
    if (ctx.parties.length !== p.signers.length || ctx.parties.some((q, i) => q !== p.signers[i])) {
      throw new ProtocolConfigError('the session\'s signers are not the presignature\'s');
    }
    if (opts.aggregator !== undefined && !p.signers.includes(opts.aggregator)) throw new ProtocolConfigError(`aggregator ${opts.aggregator} is not a signer`);
    const inputs = presignedInputs(p, ctx.protocol, ctx.session, digest, opts.context ?? new Uint8Array());
    return sendOnlineShare(p, digest, inputs, opts.aggregator, 1);
  };
}
