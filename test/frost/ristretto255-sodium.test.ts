/** ristretto255 by libsodium (protocol/curves/ristretto255-sodium.ts) against noble's ristretto255 (RFC 9496). */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectNoCopyInSodium } from '../support/sodium-memory.ts';
import { isValidRistrettoElement, ristrettoAdd, ristrettoAddToEach, ristrettoBaseMul, ristrettoMul, ristrettoSub, ristrettoSubFromEach } from '../../protocol/curves/ristretto255-sodium.ts';

const { Point } = ristretto255;
const L = Point.Fn.ORDER;
const randomScalar = (): bigint => Point.Fn.create(BigInt('0x' + randomBytes(48).toString('hex'))) || 1n;
const randomElement = () => Point.BASE.multiply(randomScalar());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const nobleDecodes = (b: Uint8Array): boolean => {
  try {
    Point.fromBytes(b);
    return true;
  } catch {
    return false;
  }
};

describe('ristretto255 by libsodium', () => {
  it('x·B and x·P equal noble\'s for random and edge scalars', () => {
    const scalars = [1n, 2n, 5n, L - 1n, L - 2n, (1n << 252n) - 1n, ...Array.from({ length: 60 }, randomScalar)];
    for (const x of scalars) {
      expect(hex(ristrettoBaseMul(x)), `x = ${x}`).toBe(Point.BASE.multiply(x).toHex());
      const P = randomElement();
      expect(hex(ristrettoMul(x, P.toBytes())!), `x = ${x}`).toBe(P.multiply(x).toHex());
    }
  });

  it('P + Q and P − Q equal noble\'s, the identity included', () => {
    for (let i = 0; i < 40; i++) {
      const [P, Q] = [randomElement(), randomElement()];
      expect(hex(ristrettoAdd(P.toBytes(), Q.toBytes())!)).toBe(P.add(Q).toHex());
      expect(hex(ristrettoSub(P.toBytes(), Q.toBytes())!)).toBe(P.subtract(Q).toHex());
      expect(hex(ristrettoSub(P.toBytes(), P.toBytes())!)).toBe(hex(Point.ZERO.toBytes()));
      expect(hex(ristrettoAdd(P.toBytes(), Point.ZERO.toBytes())!)).toBe(P.toHex());
    }
    expect(ristrettoAdd(new Uint8Array(32).fill(0xff), Point.BASE.toBytes())).toBeUndefined();
    expect(ristrettoSub(Point.BASE.toBytes(), Point.BASE.toBytes().subarray(1))).toBeUndefined();
  });

  it('P_i + Q and P_i − Q for many P_i equal noble\'s; one invalid operand gives nothing', () => {
    const Ps = Array.from({ length: 20 }, randomElement);
    const Q = randomElement();
    expect(ristrettoAddToEach(Ps.map((P) => P.toBytes()), Q.toBytes())!.map(hex)).toEqual(Ps.map((P) => P.add(Q).toHex()));
    expect(ristrettoSubFromEach(Ps.map((P) => P.toBytes()), Q.toBytes())!.map(hex)).toEqual(Ps.map((P) => P.subtract(Q).toHex()));
    const withBad = [...Ps.map((P) => P.toBytes()), new Uint8Array(32).fill(0xff)];
    expect(ristrettoAddToEach(withBad, Q.toBytes())).toBeUndefined();
    expect(ristrettoSubFromEach(Ps.map((P) => P.toBytes()), Q.toBytes().subarray(1))).toBeUndefined();
  });

  it('an element is valid exactly when noble decodes it and it is not the identity', () => {
    const P = randomElement().toBytes();
    expect(isValidRistrettoElement(P)).toBe(true);
    expect(isValidRistrettoElement(Point.ZERO.toBytes())).toBe(false); // decodes, but the identity
    const odd = Uint8Array.from(P);
    odd[0]! ^= 1; // a "negative" s: not canonical
    const high = Uint8Array.from(P);
    high[31]! |= 0x80; // s ≥ 2^255: not canonical
    for (const b of [odd, high, new Uint8Array(32).fill(0xff), P.subarray(1)]) expect(isValidRistrettoElement(b), hex(b)).toBe(false);
    let valid = 0;
    for (let i = 0; i < 3000; i++) {
      const b = new Uint8Array(randomBytes(32));
      const expected = nobleDecodes(b) && !b.every((x) => x === 0);
      expect(isValidRistrettoElement(b), hex(b)).toBe(expected);
      if (expected) valid++;
    }
    expect(valid).toBeGreaterThan(0); // random strings reach both answers
  });

  it('refuses scalars 0 and out of range, and multiplies no invalid element', () => {
    const P = randomElement().toBytes();
    for (const x of [0n, -1n, L, L + 1n, 1n << 255n]) {
      expect(() => ristrettoBaseMul(x)).toThrow(RangeError);
      expect(() => ristrettoMul(x, P)).toThrow(RangeError);
    }
    for (const bad of [Point.ZERO.toBytes(), new Uint8Array(32).fill(0xff), P.subarray(1)]) expect(ristrettoMul(5n, bad)).toBeUndefined();
  });

  it('leaves no copy of a scalar or a product in the WebAssembly module\'s memory, after each operation', async () => {
    const noCopies = (what: string, secrets: readonly Uint8Array[]) => expectNoCopyInSodium(secrets, what);
    for (let i = 0; i < 20; i++) {
      const [x, P, T] = [randomScalar(), randomElement().toBytes(), randomElement().toBytes()];
      const scalar = Point.Fn.toBytes(x);
      const xP = ristrettoMul(x, P)!;
      await noCopies('x·P', [scalar, xP]);
      const xB = ristrettoBaseMul(x);
      await noCopies('x·B', [scalar, xB]);
      await noCopies('x·P − T', [ristrettoSub(xP, T)!]);
      await noCopies('x·P + T', [ristrettoAdd(xP, T)!]);
      await noCopies('x·B + T, x·P + T', ristrettoAddToEach([xB, xP], T)!);
      await noCopies('x·B − T, x·P − T', ristrettoSubFromEach([xB, xP], T)!);
    }
  });
});
