/**
 * k·P for a secret k by one GLV walk (protocol/curves/secp256k1-mul-secret.ts) against noble's
 * multiplication: random scalars and points, each sign combination of the two halves, and the
 * scalars at the edges of the range and of the split.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { secp256k1MulSecret, splitScalar } from '../../protocol/curves/secp256k1-mul-secret.ts';

const { Point } = secp256k1;
const N = Point.Fn.ORDER;
const LAMBDA = 0x5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72n;
const randomScalar = (): bigint => Point.Fn.create(BigInt('0x' + randomBytes(48).toString('hex')));
const randomPoint = () => Point.BASE.multiplyUnsafe(randomScalar());

describe('secret-scalar multiplication on secp256k1 (GLV, fixed sequence)', () => {
  it('splits every scalar into halves below 2^128 in absolute value with k ≡ k1 + k2·λ', () => {
    for (const k of [0n, 1n, N - 1n, LAMBDA, N - LAMBDA, ...Array.from({ length: 200 }, randomScalar)]) {
      const [k1, k2] = splitScalar(k);
      expect(k1 > -(1n << 128n) && k1 < 1n << 128n && k2 > -(1n << 128n) && k2 < 1n << 128n).toBe(true);
      expect(Point.Fn.create(k1 + k2 * LAMBDA)).toBe(k);
    }
  });

  it("equals noble's k·P for random scalars and points, with every sign combination of the halves seen", () => {
    const signs = new Set<string>();
    for (let i = 0; i < 120; i++) {
      const k = randomScalar();
      const p = randomPoint();
      const [k1, k2] = splitScalar(k);
      signs.add(`${k1 < 0n}/${k2 < 0n}`);
      expect(secp256k1MulSecret(p, k).equals(p.multiply(k)), `k = ${k}`).toBe(true);
    }
    expect(signs.size).toBe(4);
  });

  it('handles the edges: 0, 1, n − 1, λ (a half that is zero), the base point and the identity', () => {
    const p = randomPoint();
    expect(secp256k1MulSecret(p, 0n).is0()).toBe(true);
    expect(secp256k1MulSecret(p, 1n).equals(p)).toBe(true);
    expect(secp256k1MulSecret(p, N - 1n).equals(p.negate())).toBe(true);
    expect(secp256k1MulSecret(p, LAMBDA).equals(p.multiply(LAMBDA))).toBe(true);
    expect(secp256k1MulSecret(Point.BASE, 2n).equals(Point.BASE.double())).toBe(true);
    expect(secp256k1MulSecret(Point.ZERO, randomScalar()).is0()).toBe(true);
  });

  it('refuses a scalar outside [0, n) rather than reducing it', () => {
    for (const k of [-1n, N, N + 5n]) expect(() => secp256k1MulSecret(Point.BASE, k)).toThrow(RangeError);
  });
});
