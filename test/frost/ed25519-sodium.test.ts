/** edwards25519 by libsodium (protocol/curves/ed25519-sodium.ts) against noble's arithmetic. */
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { Ed25519Encoded, ed25519BaseMul, isValidEd25519Encoding } from '../../protocol/curves/ed25519-sodium.ts';
import { sodiumNative } from '../../protocol/curves/sodium-native-module.ts';

const { Point } = ed25519;
const L = Point.Fn.ORDER;
const randomScalar = (): bigint => Point.Fn.create(BigInt('0x' + randomBytes(48).toString('hex')));
const randomPoint = () => Point.BASE.multiply(randomScalar());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('x·B by libsodium', () => {
  it('equals noble\'s x·B for random and edge scalars', () => {
    const scalars = [1n, 2n, 8n, L - 1n, L - 8n, (1n << 252n) - 1n, 1n << 252n, ...Array.from({ length: 100 }, randomScalar)];
    for (const x of scalars) expect(Buffer.from(ed25519BaseMul(x)).toString('hex'), `x = ${x}`).toBe(Point.BASE.multiply(x).toHex());
  });

  it('refuses 0 and scalars out of range rather than reducing them', () => {
    for (const x of [0n, -1n, L, L + 1n, 1n << 255n]) expect(() => ed25519BaseMul(x)).toThrow(RangeError);
  });

  it('wipes the scalar buffer libsodium multiplied, once the product is out', () => {
    const call = vi.spyOn(sodiumNative, 'crypto_scalarmult_ed25519_base_noclamp');
    let handed: Uint8Array[];
    try {
      for (let i = 0; i < 20; i++) {
        const x = randomScalar();
        expect(Buffer.from(ed25519BaseMul(x)).toString('hex')).toBe(Point.BASE.multiply(x).toHex());
      }
    } finally {
      handed = call.mock.calls.map(([, n]) => n); // restoring clears the calls
      call.mockRestore();
    }
    expect(handed).toHaveLength(20);
    for (const n of handed) expect(n.every((b) => b === 0)).toBe(true);
  });
});

describe('points as encodings, added and multiplied by libsodium', () => {
  it('s·P equals noble\'s for random points and scalars, and for the edge scalars', () => {
    for (let i = 0; i < 60; i++) {
      const P = randomPoint();
      for (const s of [randomScalar(), 1n, 2n, L - 1n]) {
        expect(hex(Ed25519Encoded.of(P.toBytes()).multiplyPublic(s)!.toBytes()), `s = ${s}`).toBe(P.multiply(s).toHex());
      }
    }
  });

  it('a multiple that is not one (s = 0 or out of range, or a point not of prime order) is refused, for the caller to compute otherwise', () => {
    const P = Ed25519Encoded.of(randomPoint().toBytes());
    for (const s of [0n, -1n, L, L + 1n]) expect(P.multiplyPublic(s)).toBeUndefined();
    for (const t of ED25519_TORSION_SUBGROUP) expect(Ed25519Encoded.of(Point.fromHex(t).toBytes()).multiplyPublic(3n)).toBeUndefined();
    const twin = randomPoint().add(Point.fromHex(ED25519_TORSION_SUBGROUP[1]!));
    expect(Ed25519Encoded.of(twin.toBytes()).multiplyPublic(3n)).toBeUndefined();
  });

  it('sums equal noble\'s; the identity is neutral and P + (−P) is it', () => {
    for (let i = 0; i < 60; i++) {
      const [P, Q] = [randomPoint(), randomPoint()];
      const [p, q] = [Ed25519Encoded.of(P.toBytes()), Ed25519Encoded.of(Q.toBytes())];
      expect(hex(p.add(q).toBytes())).toBe(P.add(Q).toHex());
      expect(hex(Ed25519Encoded.ZERO.add(p).toBytes())).toBe(P.toHex());
      expect(hex(p.add(Ed25519Encoded.ZERO).toBytes())).toBe(P.toHex());
      expect(hex(p.add(Ed25519Encoded.of(P.negate().toBytes())).toBytes())).toBe(Point.ZERO.toHex());
    }
  });

  it('an encoding is valid only if canonical, on the curve, of prime order and not the identity', () => {
    const P = randomPoint();
    expect(isValidEd25519Encoding(P.toBytes())).toBe(true);
    expect(isValidEd25519Encoding(Point.ZERO.toBytes())).toBe(false);
    for (const t of ED25519_TORSION_SUBGROUP) expect(isValidEd25519Encoding(P.add(Point.fromHex(t)).toBytes())).toBe(Point.fromHex(t).is0());
    const yPlusP = Uint8Array.from(Buffer.from('ee' + 'ff'.repeat(30) + '7f', 'hex')); // y = p + 1, non-canonical
    expect(isValidEd25519Encoding(yPlusP)).toBe(false);
    expect(isValidEd25519Encoding(P.toBytes().subarray(1))).toBe(false);
  });
});
