/**
 * secp256k1's GLV parts (protocol/curves/secp256k1-glv.ts) and k·P for a secret k by one GLV
 * walk (secp256k1-mul-secret.ts), against noble: the split of every scalar, check weights and
 * their multiples, and the secret multiplication for random scalars and points, each sign
 * combination of the two halves, and the edges of the range and of the split.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { glvWeight, LAMBDA, mulWeight, psi, splitScalar } from '../../protocol/curves/secp256k1-glv.ts';
import { secp256k1MulSecret } from '../../protocol/curves/secp256k1-mul-secret.ts';

const { Point } = secp256k1;
const N = Point.Fn.ORDER;
const randomScalar = (): bigint => Point.Fn.create(BigInt('0x' + randomBytes(48).toString('hex')));
const randomPoint = () => Point.BASE.multiplyUnsafe(randomScalar());

describe('the GLV endomorphism of secp256k1', () => {
  it('ψ(P) = λ·P', () => {
    for (let i = 0; i < 5; i++) {
      const p = randomPoint();
      expect(psi(p).equals(p.multiply(LAMBDA))).toBe(true);
    }
  });

  it('splits every scalar into halves below 2^128 in absolute value with k ≡ k1 + k2·λ', () => {
    for (const k of [0n, 1n, N - 1n, LAMBDA, N - LAMBDA, ...Array.from({ length: 200 }, randomScalar)]) {
      const [k1, k2] = splitScalar(k);
      expect(k1 > -(1n << 128n) && k1 < 1n << 128n && k2 > -(1n << 128n) && k2 < 1n << 128n).toBe(true);
      expect(Point.Fn.create(k1 + k2 * LAMBDA)).toBe(k);
    }
  });

  it('draws check weights ρ = ρ1 + ρ2·λ with 64-bit halves, and ρ·P from the halves equals noble\'s ρ·P', () => {
    for (let i = 0; i < 40; i++) {
      const w = glvWeight((n) => new Uint8Array(randomBytes(n)));
      expect(w.low < 1n << 64n && w.high < 1n << 64n).toBe(true);
      expect(w.value).toBe(Point.Fn.create(w.low + w.high * LAMBDA));
      const p = randomPoint();
      expect(mulWeight(p, w).equals(w.value === 0n ? Point.ZERO : p.multiply(w.value))).toBe(true);
    }
    // Fixed bytes: the halves are the first and last eight bytes, big-endian.
    const w = glvWeight(() => Uint8Array.from([...Array(7).fill(0), 3, ...Array(7).fill(0), 5]));
    expect([w.low, w.high, w.value]).toEqual([3n, 5n, Point.Fn.create(3n + 5n * LAMBDA)]);
  });
});

describe('secret-scalar multiplication on secp256k1 (GLV, fixed sequence)', () => {

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
