/**
 * The parts of DKLs23 signing (sign.ts) that are not rounds: the messages of rounds 1–2 (the last flight's is in presigned.ts) and
 * their codecs, the transcript and its per-pair labels, the zero-sharing, the retirement guard
 * of OT setups, and round 3's point work on compressed encodings (the γ/ψ check and the sums,
 * by libsecp256k1).
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytes, struct, type Bytes } from '../core/codec.ts';
import type { PartyId } from '../core/ids.ts';
import { lagrangeCoefficient } from '../core/lagrange.ts';
import { hashTranscript } from '../core/transcript.ts';
import { frostSuite } from '../curves/ciphersuites.ts';
import { pointCodec, validSecp256k1Encoding } from '../curves/points.ts';
import { Secp256k1Encoded } from '../curves/secp256k1-libsecp.ts';
import type { DklsKeyShare } from './keys.ts';
import { kosMessageBytes } from './ot-extension.ts';
import { NONCE_BYTES, TAU_BYTES, XI } from './rvole.ts';

export const Fn = secp256k1.Point.Fn;
export const N = Fn.ORDER;

export interface EcdsaSignature {
  /** r ‖ s, 64 bytes, s normalised to the lower half (BIP62 / EIP-2). */
  readonly signature: Uint8Array;
  /** 0 or 1 (2/3 when r overflowed the order, which is negligible): what ecrecover needs. */
  readonly recoveryId: number;
}

const suite = frostSuite('frost-secp256k1');
/**
 * A point of a signing message: 33-byte compressed SEC1, on the curve (so never the identity),
 * checked by libsecp256k1 on its encoding; signing adds and multiplies encodings and never
 * decodes one into a noble point.
 */
export const dklsPoint = pointCodec(33, validSecp256k1Encoding);

export interface Round1Broadcast {
  commitment: Bytes;
  /** The hash of every public input this signer runs with (see `signTranscript`). */
  inputs: Bytes;
}
export interface Round1Direct {
  u: Bytes;
  xTilde: Bytes;
  tTilde: Bytes;
  nonce: Bytes;
}
export interface Round2Broadcast {
  instancePoint: Bytes;
  salt: Bytes;
  publicShare: Bytes;
}
export interface Round2Direct {
  tau: Bytes;
  checkU: Bytes;
  checkDigest: Bytes;
  gammaU: Bytes;
  gammaV: Bytes;
  psi: Bytes;
  nonce: Bytes;
}

export const r1b = struct<Round1Broadcast>({ commitment: bytes(32), inputs: bytes(32) });
export const r1d = struct<Round1Direct>({ u: bytes(kosMessageBytes(XI)), xTilde: bytes(16), tTilde: bytes(16), nonce: bytes(NONCE_BYTES) });
export const r2b = struct<Round2Broadcast>({ instancePoint: dklsPoint, salt: bytes(32), publicShare: dklsPoint });
export const r2d = struct<Round2Direct>({
  tau: bytes(TAU_BYTES),
  checkU: suite.scalar,
  checkDigest: bytes(32),
  gammaU: dklsPoint,
  gammaV: dklsPoint,
  psi: suite.scalar,
  nonce: bytes(NONCE_BYTES),
});

export const scalarBytes = (x: bigint): Bytes => Fn.toBytes(x) as Bytes;
/** A point of a validated message field (`dklsPoint`). */
export const encoded = (b: Uint8Array): Secp256k1Encoded => Secp256k1Encoded.of(b);

/**
 * The γ/ψ correlation check of round 3 for one peer j, both equations at once under a random
 * weight ρ only this party knows:
 *
 *   χ·(R_j + ρ·pk_j) = Γ^u + ρ·Γ^v + (d^u + ρ·d^v)·G
 *
 * If either χ·R_j − Γ^u = d^u·G or χ·pk_j − Γ^v = d^v·G fails, at most one ρ makes the sum hold,
 * so a ρ of 2^128 possible values drawn after j's messages are in misses a cheat with
 * probability 2^-128. χ and d = d^u + ρ·d^v are secret (libsecp256k1's constant-time
 * multiplications); the rest is public.
 */
export function correlationHolds(m: { Rj: Uint8Array; pkj: Uint8Array; gammaU: Uint8Array; gammaV: Uint8Array }, chi: bigint, rho: bigint, d: bigint): boolean {
  const rhoBytes = Fn.toBytes(rho);
  const lhs = encoded(m.Rj).add(encoded(m.pkj).multiplyPublic(rhoBytes)).multiplySecret(chi);
  const rhs = encoded(m.gammaU).add(encoded(m.gammaV).multiplyPublic(rhoBytes)).add(Secp256k1Encoded.baseMultiplySecret(d));
  return lhs.equals(rhs);
}

/** Σ of validated encodings (`ZERO` when they sum to the point at infinity). */
export const sumPoints = (points: readonly Uint8Array[]): Secp256k1Encoded => points.reduce((sum, p) => sum.add(encoded(p)), Secp256k1Encoded.ZERO);

/** A random ρ in [1, 2^128): the weight of `correlationHolds`. */
export function correlationWeight(rng: (n: number) => Uint8Array): bigint {
  for (;;) {
    const rho = BigInt('0x' + Buffer.from(rng(16)).toString('hex'));
    if (rho !== 0n) return rho;
  }
}

export function randomScalar(rng: (n: number) => Uint8Array): bigint {
  for (;;) {
    const x = BigInt('0x' + Buffer.from(rng(48)).toString('hex')) % N;
    if (x !== 0n) return x;
  }
}

/** λ_i at 0 over the signer set. */
export const lagrangeAtZero = (self: PartyId, signers: readonly PartyId[]): bigint => lagrangeCoefficient(Fn, signers.map(BigInt), BigInt(self));

/** ζ_i = Σ_j ±PRF(seed_ij, session): the zero shares of all signers sum to 0. */
export function zeroShare(share: DklsKeyShare, self: PartyId, signers: readonly PartyId[], session: Uint8Array): bigint {
  let z = 0n;
  for (const j of signers) {
    if (j === self) continue;
    const prf = createHash('shake256', { outputLength: 48 }).update('mpc/dkls23/zero-share/v1').update(share.pairs.get(j)!.zeroSeed).update(session).digest();
    const v = BigInt('0x' + prf.toString('hex')) % N;
    prf.fill(0);
    z += self < j ? v : N - v;
  }
  return z % N;
}

/**
 * Where a signer keeps the state of its OT-sender setups (its Δ with each peer) across the
 * sessions it runs at once. A node passes one guard per key to every session of that key.
 */
export interface OtPairGuard {
  /** False once the pair is retired: no answer with that Δ may be computed any more. */
  usable(peer: PartyId): boolean;
  /**
   * Called in the same synchronous step as the failed KOS check that proves `peer` cheated
   * against this party's Δ, before any other session can evaluate a check with it.
   */
  retire(peer: PartyId): void;
  /**
   * Runs one session's checks (and their answers) against this key's pairs with no other
   * session's in between. Sessions on one thread meet the guard one at a time anyway; a guard
   * shared by threads (node/session/retirement-board.ts) must make them, or K sessions released
   * at once on K threads would all be checked before the first miss retires the pair.
   */
  exclusive?<T>(run: () => T): T;
}

/**
 * The hash of every public input of a signing session; signers compare it in round 1 and bind
 * every label to it. `context` carries what the caller knows beyond the protocol (the node puts
 * key id, epoch and derivation path there).
 */
export function signTranscript(protocol: string, session: string, signers: readonly PartyId[], groupKey: Uint8Array, digest: Uint8Array, context: Uint8Array): Uint8Array {
  return hashTranscript('mpc/dkls23/sign/v2', protocol, session, signers.length, ...signers, groupKey, digest, context);
}

/** The label of the multiplication in which `alice` is the extension sender and `bob` the receiver. */
export const pairLabel = (transcript: Uint8Array, alice: PartyId, bob: PartyId): Uint8Array => hashTranscript('mpc/dkls23/sign-ot/v1', transcript, alice, bob);
