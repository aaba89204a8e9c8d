/**
 * secp256k1's GLV parts (protocol/curves/secp256k1-glv.ts) against noble: ψ, and check weights
 * and their multiples.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { glvWeight, LAMBDA, mulWeight, psi } from '../../protocol/curves/secp256k1-glv.ts';

const { Point } = secp256k1;
const randomScalar = (): bigint => Point.Fn.create(BigInt('0x' + randomBytes(48).toString('hex')));
const randomPoint = () => Point.BASE.multiplyUnsafe(randomScalar());

describe('the GLV endomorphism of secp256k1', () => {
  it('ψ(P) = λ·P', () => {
    for (let i = 0; i < 5; i++) {
      const p = randomPoint();
      expect(psi(p).equals(p.multiply(LAMBDA))).toBe(true);
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
