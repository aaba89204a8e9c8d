/**
 * The group commitment's multi-scalar multiplication by OpenSSL's X25519 ladder
 * (protocol/curves/ed25519-x25519-msm.ts), against noble's multiplication: random terms through
 * the ladder alone, both ways of clamping a scalar, and the corners that must go to noble.
 */
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { x25519Msm } from '../../protocol/curves/ed25519-x25519-msm.ts';

const { Point } = ed25519;
const Fn = Point.Fn;
const L = Fn.ORDER;
const randomScalar = () => Fn.create(BigInt('0x' + randomBytes(48).toString('hex')));
const randomPoint = () => Point.BASE.multiply(randomScalar());
const noble = (points: (typeof Point.BASE)[], scalars: bigint[]) => mulAddUnsafe(Point, points, scalars);
const ladderOnly = () => {
  throw new Error('went to the fallback');
};
/** The m of the clamped form 2^254 + 8m of s (the ladder uses it when below 2^251). */
const clampM = (s: bigint) => Fn.mul(Fn.sub(s, Fn.create(1n << 254n)), Fn.inv(8n));

describe('Σ s_i·P_i by the X25519 ladder', () => {
  it('equals noble\'s MSM for random points and scalars, one to five terms, without falling back', () => {
    for (let run = 0; run < 120; run++) {
      const n = 1 + (run % 5);
      const points = Array.from({ length: n }, randomPoint);
      const scalars = Array.from({ length: n }, randomScalar);
      expect(x25519Msm(points, scalars, ladderOnly).equals(noble(points, scalars))).toBe(true);
    }
  });

  it('clamps either s or −s: scalars of both kinds give noble\'s product', () => {
    const P = randomPoint();
    const direct = Fn.create((1n << 254n) + 8n * 5n); // m(s) = 5
    // m(s) + m(−s) = L − 2^252 = δ (mod L): past the band [2^251, 2^251 + 2δ] only −s fits.
    const negated = Fn.create((1n << 254n) + 8n * ((1n << 251n) + 2n * (L - (1n << 252n)) + 7n));
    expect(clampM(direct)).toBeLessThan(1n << 251n);
    expect(clampM(negated) >= 1n << 251n && clampM(Fn.neg(negated)) < 1n << 251n).toBe(true);
    for (const s of [direct, negated, 1n, 2n, L - 2n]) expect(x25519Msm([P], [s], ladderOnly).equals(P.multiplyUnsafe(s))).toBe(true);
  });

  it('hands the corners to the fallback: s = 0, s = −1 (s + 1 = 0), and an s with no clamped form either way', () => {
    const P = randomPoint();
    const delta = L - (1n << 252n);
    const unclampable = Fn.create((1n << 254n) + 8n * ((1n << 251n) + delta)); // m(s) and m(−s) both ≥ 2^251
    expect(clampM(unclampable) >= 1n << 251n && clampM(Fn.neg(unclampable)) >= 1n << 251n).toBe(true);
    for (const s of [0n, L - 1n, unclampable]) {
      let fellBack = false;
      const sum = x25519Msm([randomPoint(), P], [randomScalar(), s], () => {
        fellBack = true;
        return Point.ZERO;
      });
      expect(fellBack).toBe(true);
      expect(sum.equals(Point.ZERO)).toBe(true);
    }
  });
});
