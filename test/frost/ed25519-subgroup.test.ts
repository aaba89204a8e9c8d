/**
 * libsodium's subgroup check (protocol/curves/ed25519-sodium.ts) against noble's [L]·P = O,
 * which we did not write, on points of every order: each coset of the 8-torsion subgroup
 * (noble's ED25519_TORSION_SUBGROUP), the torsion points themselves and the identity.
 */
import fc from 'fast-check';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { inPrimeOrderSubgroup } from '../../protocol/curves/ed25519-sodium.ts';
import { MemoisedEd25519Point, validEd25519Encoding, validEd25519Point } from '../../protocol/curves/points.ts';

const Point = ed25519.Point;
const torsion = ED25519_TORSION_SUBGROUP.map((hex) => Point.fromHex(hex));

describe('edwards25519 prime-order subgroup membership by libsodium', () => {
  it('the eight torsion points: only the identity is in the subgroup, as noble says', () => {
    expect(torsion).toHaveLength(8);
    for (const t of torsion) expect(inPrimeOrderSubgroup(t)).toBe(t.isTorsionFree());
    expect(torsion.filter((t) => inPrimeOrderSubgroup(t))).toHaveLength(1);
    expect(inPrimeOrderSubgroup(Point.ZERO)).toBe(true);
  });

  it('property: k·G + T agrees with noble for every torsion point T (only T = O is in the subgroup)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: Point.Fn.ORDER - 1n }), fc.integer({ min: 0, max: 7 }), (k, i) => {
        const p = Point.BASE.multiply(k).add(torsion[i]!);
        expect(inPrimeOrderSubgroup(p)).toBe(p.isTorsionFree());
        expect(inPrimeOrderSubgroup(p)).toBe(torsion[i]!.is0());
      }),
      { numRuns: 400 },
    );
  });

  it('both validators (noble points; encodings, the wire codec\'s) refuse each mixed-order twin of a valid point and accept the point', () => {
    const p = Point.BASE.multiply(123456789n);
    for (const validate of [validEd25519Point, validEd25519Encoding]) {
      expect(() => validate(p.toBytes(), 'p')).not.toThrow();
      for (const t of torsion.filter((t) => !t.is0())) {
        expect(() => validate(p.add(t).toBytes(), 'twin')).toThrow(/prime-order subgroup/);
      }
    }
  });

  it('what the noble path remembers does not widen the wire codec: the identity is torsion-free, and still refused as an element', () => {
    const identity = Point.ZERO.toBytes();
    expect(MemoisedEd25519Point.fromBytes(identity).isTorsionFree()).toBe(true);
    expect(MemoisedEd25519Point.fromBytes(identity).isTorsionFree()).toBe(true);
    expect(() => validEd25519Encoding(identity, 'identity')).toThrow(/identity/);
  });
});
