/**
 * Prime-order subgroup membership on edwards25519 with one X25519 ladder (x25519-ladder.ts):
 * ~0.09 ms, against 0.36 ms for Pornin's halving test (eprint 2022/1164) and 0.70 ms for noble's
 * [L]·P = O with bigint field arithmetic. RFC 9591 requires the check for every element a FROST
 * signer or DKG participant receives; it was the largest single cost of a node's Ed25519
 * signature with nonces committed ahead (the other signers' D_j, E_j).
 *
 * Why it works. The group is cyclic of order 8·L, so P = P₀ + T with P₀ of order L (or O) and T
 * of order dividing 8. Take the clamped k with k ≡ ±1 (mod L); it is ≡ 0 (mod 8), so
 * [k]P = ±P₀ and X25519 returns u(P₀). Equal u-coordinates mean equal points up to sign, so
 * u(P₀) = u(P) iff P = P₀ (P in the subgroup) or P = −P₀, that is T = −2P₀, which takes an
 * element of order dividing 8 and one of order L (or 1) to be equal: only P = O. A P of
 * small order (P₀ = O) makes X25519 return the all-zero output, which OpenSSL refuses.
 *
 * Variable time: every point checked here is public. Tested against noble's isTorsionFree on
 * every coset of the torsion subgroup (test/frost/ed25519-subgroup.test.ts).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { clampedFor, ladder, montgomeryU, x25519Point, x25519Scalar } from './x25519-ladder.ts';

/** k ≡ ±1 (mod L), k ≡ 0 (mod 8): the projection onto the prime-order subgroup, up to sign. */
const PROJECTION = x25519Scalar(clampedFor(1n)!);

type EdPoint = InstanceType<typeof ed25519.Point>;

/** Whether `point` (on the curve) lies in the subgroup of prime order L: [L]·point = O. */
export function inPrimeOrderSubgroup(point: EdPoint): boolean {
  const u = montgomeryU(point);
  if (u === undefined) return point.is0(); // Z = Y: the identity (x = 0, y = 1)
  return ladder(PROJECTION, x25519Point(u)) === u;
}
