/**
 * k·P on secp256k1 for a secret scalar k and a public point P, with a fixed sequence of point
 * operations. The scalar is split by the GLV endomorphism ψ(x, y) = (β·x, y) = [λ]·(x, y) into
 * k = k1 + k2·λ with |k1|, |k2| < 2^128, and one walk of 4-bit windows covers both halves:
 * ~130 doublings and ~65 additions, where noble's constant-time multiply (a 384-bit blinded
 * scalar, no endomorphism) needs ~380 and ~100. DKLs23's γ/ψ check multiplies by Bob's secret
 * input χ once per peer; this is what it costs.
 *
 * No branch or early exit depends on k: each half is taken in two's complement, k_i =
 * (k_i mod 2^128) − s_i·2^128, so its sign s_i only selects the walk's starting point (−P or
 * the identity, chosen by scanning both), and every window adds one table entry per half,
 * chosen by scanning the whole table, the identity when the digit is 0. JavaScript BigInt
 * arithmetic (the split itself) is not constant time; SECURITY.md says what that leaves.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { psi, splitScalar, type SecpPoint } from './secp256k1-glv.ts';

const { Point } = secp256k1;
const N = Point.Fn.ORDER;

const HALF_BITS = 128n;
const HALF_MASK = (1n << HALF_BITS) - 1n;
const WINDOW = 4;
const WINDOWS = 128 / WINDOW;
const TABLE = 1 << WINDOW;

/** table[d] for d = digit, touching every entry. */
function select(table: readonly SecpPoint[], digit: number): SecpPoint {
  let chosen = table[0]!;
  for (let i = 1; i < table.length; i++) chosen = i === digit ? table[i]! : chosen;
  return chosen;
}

/** k·P for a secret k in [0, n) and a valid point P (the identity included). */
export function secp256k1MulSecret(p: SecpPoint, k: bigint): SecpPoint {
  if (k < 0n || k >= N) throw new RangeError('scalar out of range');
  if (!p.is0()) p.assertValidity();
  const [k1, k2] = splitScalar(k);
  if (k1 <= -(1n << HALF_BITS) || k1 >= 1n << HALF_BITS || k2 <= -(1n << HALF_BITS) || k2 >= 1n << HALF_BITS) throw new Error('GLV split out of range');
  // The halves in two's complement: low 128 bits and the sign (bit 128 of the infinite form).
  const low1 = k1 & HALF_MASK;
  const low2 = k2 & HALF_MASK;
  const sign1 = Number((k1 >> HALF_BITS) & 1n);
  const sign2 = Number((k2 >> HALF_BITS) & 1n);
  // 0·P .. 15·P, and the same multiples of ψ(P) (ψ is a homomorphism: one Fp product each).
  const table1: SecpPoint[] = [Point.ZERO, p];
  for (let i = 2; i < TABLE; i++) table1.push(table1[i - 1]!.add(p));
  const table2 = table1.map((q, i) => (i === 0 ? q : psi(q)));
  // −s_i·2^128 times each base: the walk doubles its start 128 times.
  let acc = select([Point.ZERO, p.negate()], sign1).add(select([Point.ZERO, table2[1]!.negate()], sign2));
  for (let w = WINDOWS - 1; w >= 0; w--) {
    for (let d = 0; d < WINDOW; d++) acc = acc.double();
    const shift = BigInt(w * WINDOW);
    acc = acc.add(select(table1, Number((low1 >> shift) & 15n)));
    acc = acc.add(select(table2, Number((low2 >> shift) & 15n)));
  }
  return acc;
}
