/**
 * curve25519's Montgomery ladder as OpenSSL's X25519 (RFC 7748) gives it: u([k]P) for a clamped
 * scalar k = 2^254 + 8m (m < 2^251) and a Montgomery u-coordinate. OpenSSL's ladder takes ~30 µs
 * where noble's bigint arithmetic takes ~500 µs for a multiplication on edwards25519, the same
 * group (v² = u³ + A·u² + u, u = (1 + y)/(1 − y)). What uses it here: the FROST group
 * commitment's MSM (ed25519-x25519-msm.ts) and the prime-order subgroup check
 * (ed25519-subgroup.ts).
 *
 * Clamping makes k a multiple of 8, so [k]P kills P's torsion component: for P of prime order L,
 * [k]P depends on k mod L only, and 8 is invertible mod L, so every scalar s has a clamped k with
 * [k]P = ±[s]P unless both its own and −s's candidate miss the range (probability below 2^-126;
 * `clampedFor` says so, and callers take another path).
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';

const Fp = ed25519.Point.Fp;
const Fn = ed25519.Point.Fn;

/** The Montgomery coefficient of curve25519 (v² = u³ + A·u² + u), the same group as edwards25519. */
export const MONTGOMERY_A = 486662n;

const TWO_254 = 1n << 254n;
const TWO_251 = 1n << 251n;
const INV8 = Fn.inv(8n);

// DER wrappers of a raw X25519 private scalar (PKCS #8) and public u-coordinate (SPKI).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** The clamped X25519 scalar k with u([k]P) = u([s]P) for every P of order L, if there is one. */
export function clampedFor(s: bigint): Uint8Array | undefined {
  for (const t of [s, Fn.neg(s)]) {
    const m = Fn.mul(Fn.sub(t, Fn.create(TWO_254)), INV8);
    if (m < TWO_251) return numberToBytesLE(TWO_254 + 8n * m, 32);
  }
  return undefined;
}

/** A clamped scalar as the private key X25519 takes. */
export function x25519Scalar(k: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, k]), format: 'der', type: 'pkcs8' });
}

/** A u-coordinate (in [0, p)) as the public key X25519 takes. */
export function x25519Point(u: bigint): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, numberToBytesLE(u, 32)]), format: 'der', type: 'spki' });
}

/** u([k]P), or undefined when [k]P is the point at infinity (OpenSSL refuses the all-zero result). */
export function ladder(k: KeyObject, uP: KeyObject): bigint | undefined {
  try {
    return bytesToNumberLE(diffieHellman({ privateKey: k, publicKey: uP }));
  } catch {
    return undefined;
  }
}

type EdPoint = InstanceType<typeof ed25519.Point>;

/** u = (Z + Y)/(Z − Y) of an edwards25519 point, or undefined for the identity (u = ∞). */
export function montgomeryU(P: EdPoint): bigint | undefined {
  const den = Fp.sub(P.Z, P.Y);
  return Fp.is0(den) ? undefined : Fp.mul(Fp.add(P.Z, P.Y), Fp.inv(den));
}
