/**
 * Σ s_i·P_i on edwards25519 for public scalars and public points of prime order (the FROST group
 * commitment's Σ ρ_i·E_i), with each s·P computed by OpenSSL's X25519 (RFC 7748) in ~80 µs
 * rather than by noble's bigint arithmetic (~480 µs a term): the group commitment was a tenth of
 * a node's CPU per Ed25519 signature.
 *
 * X25519 is a Montgomery ladder on curve25519, the Montgomery form v² = u³ + A·u² + u of the same
 * group, and returns only u([k]P) for a clamped k (2^254 + 8m, m < 2^251). Three facts make it
 * a full scalar multiplication here:
 *
 * - P has prime order L, so [k]P depends on k mod L only, and 8 is invertible mod L: k = 2^254 +
 *   8m with m = (s − 2^254)/8 mod L gives [k]P = [s]P whenever that m is below 2^251. u([s]P) =
 *   u([−s]P), so when it is not, the m of L − s serves; the two m sum to δ = L − 2^252 (~2^124)
 *   mod L, so both miss only for m in [2^251, 2^251 + 2δ], probability below 2^-126 (then, and in
 *   every other corner below, the term goes to noble instead).
 * - The sign of v is recovered from u([s+1]P) (Okeya and Sakurai, CHES 2001): with P = (u_P, v_P),
 *   Q = [s]P and R = Q + P,
 *     v_Q = ((u_P·u_Q + 1)(u_P + u_Q + 2A) − 2A − (u_P − u_Q)²·u_R) / (2·v_P).
 * - The maps of RFC 7748 section 4.1, (u, v) = ((1 + y)/(1 − y), c·u/x) and back (x, y) =
 *   (c·u/v, (u − 1)/(u + 1)) with c = √(−486664), are inverse isomorphisms, so Q maps back to
 *   [s]P. Projective coordinates leave one field inversion per term.
 *
 * Variable time, and only for public inputs: OpenSSL's ladder is constant time, the rest is not.
 * Tested against noble's multiplication (test/frost/ed25519-x25519-msm.test.ts).
 */
import type { KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { clampedFor, ladder, MONTGOMERY_A, x25519Point, x25519Scalar } from './x25519-ladder.ts';

type EdPoint = InstanceType<typeof ed25519.Point>;

const Fp = ed25519.Point.Fp;
const Fn = ed25519.Point.Fn;
/** 2A of the Montgomery form, and c = √(−(A + 2)), the constant of RFC 7748's birational maps. */
const TWO_A = 2n * MONTGOMERY_A;
const C = Fp.sqrt(Fp.neg(MONTGOMERY_A + 2n));

/** u([s]P) for P of prime order, or undefined when s has no clamped form or [s]P = O. */
function uOfMultiple(s: bigint, uP: KeyObject): bigint | undefined {
  const k = clampedFor(s);
  if (!k) return undefined;
  try {
    return ladder(x25519Scalar(k), uP);
  } finally {
    k.fill(0);
  }
}

/** [s]P for a public scalar and a public point of prime order, or undefined in a corner case. */
function mulByLadder(P: EdPoint, s: bigint): EdPoint | undefined {
  const { X, Y, Z } = P;
  // u = (Z + Y)/(Z − Y), v = c·u/x = c·(Z + Y)·Z/((Z − Y)·X): one inversion for both.
  const den = Fp.mul(Fp.sub(Z, Y), X);
  if (Fp.is0(den)) return undefined; // the identity (or a point of order 2, not of prime order)
  const inv = Fp.inv(den);
  const uP = Fp.mul(Fp.mul(Fp.add(Z, Y), X), inv);
  const vP = Fp.mul(Fp.mul(Fp.mul(C, Fp.add(Z, Y)), Z), inv);
  const publicU = x25519Point(uP);
  const uQ = uOfMultiple(s, publicU);
  const uR = uOfMultiple(Fn.add(s, 1n), publicU);
  if (uQ === undefined || uR === undefined) return undefined;
  // v_Q = num / (2·v_P), kept as a fraction: the Edwards point below absorbs the denominator.
  const diff = Fp.sub(uP, uQ);
  const num = Fp.sub(Fp.sub(Fp.mul(Fp.add(Fp.mul(uP, uQ), 1n), Fp.add(Fp.add(uP, uQ), TWO_A)), TWO_A), Fp.mul(Fp.sqr(diff), uR));
  const twoVP = Fp.mul(2n, vP);
  // x = c·u_Q/v_Q = c·u_Q·2v_P/num and y = (u_Q − 1)/(u_Q + 1), over the common Z = num·(u_Q + 1).
  const x = Fp.mul(Fp.mul(C, uQ), Fp.mul(twoVP, Fp.add(uQ, 1n)));
  const y = Fp.mul(Fp.sub(uQ, 1n), num);
  const z = Fp.mul(num, Fp.add(uQ, 1n));
  if (Fp.is0(z)) return undefined;
  // Extended coordinates (X·Z, Y·Z, Z², X·Y) of the affine point (X/Z, Y/Z).
  return new ed25519.Point(Fp.mul(x, z), Fp.mul(y, z), Fp.sqr(z), Fp.mul(x, y));
}

/**
 * Σ scalars[i]·points[i] for public scalars and public points of prime order (validated by the
 * caller); `fallback` computes the same sum when a term meets a corner case.
 */
export function x25519Msm(points: readonly EdPoint[], scalars: readonly bigint[], fallback: () => EdPoint): EdPoint {
  let sum = ed25519.Point.ZERO;
  for (let i = 0; i < points.length; i++) {
    const term = mulByLadder(points[i]!, scalars[i]!);
    if (!term) return fallback();
    sum = sum.add(term);
  }
  return sum;
}
