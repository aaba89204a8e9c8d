/** OpenSSL's secp256k1 base multiplication (protocol/curves/secp256k1-base-mul.ts) against noble's. */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compressSec1, secp256k1BaseMul } from '../../protocol/curves/secp256k1-base-mul.ts';

const { Point } = secp256k1;

describe('x·G by OpenSSL', () => {
  it('equals noble\'s x·G, uncompressed and compressed, for random and edge scalars', () => {
    const scalars = [1n, 2n, Point.Fn.ORDER - 1n, ...Array.from({ length: 100 }, () => Point.Fn.create(BigInt('0x' + randomBytes(48).toString('hex'))))];
    for (const x of scalars) {
      const expected = Point.BASE.multiply(x);
      const got = secp256k1BaseMul(x);
      expect(Buffer.from(got).toString('hex')).toBe(expected.toHex(false));
      expect(Buffer.from(compressSec1(got)).toString('hex')).toBe(expected.toHex(true));
    }
  });

  it('refuses 0 and scalars out of range rather than reducing them', () => {
    for (const x of [0n, Point.Fn.ORDER, Point.Fn.ORDER + 1n]) expect(() => secp256k1BaseMul(x)).toThrow(RangeError);
  });
});
