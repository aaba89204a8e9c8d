/**
 * The prime-order groups the threshold layer computes in, behind one interface, so generic code
 * (DKG math, refresh, resharing, repair, tweaks, share checks) is written once instead of
 * branching on the scheme. Points are noble's; scalars are bigints reduced mod `order`, encoded
 * in the group's byte order (little-endian on edwards25519, big-endian on secp256k1).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE, numberToBytesBE, numberToBytesLE } from '@noble/curves/utils.js';
import type { Bytes } from '../core/codec.ts';
import { validEd25519Point, validSecp256k1Point } from './points.ts';

type EdPoint = InstanceType<typeof ed25519.Point>;
type SecpPoint = InstanceType<typeof secp256k1.Point>;
/** A point of either group; the helpers below only combine points of one group. */
export type GroupElement = EdPoint | SecpPoint;

export interface Group {
  readonly name: 'ed25519' | 'secp256k1';
  readonly order: bigint;
  /** noble's scalar field (fromBytes rejects unreduced encodings). */
  readonly Fn: typeof ed25519.Point.Fn;
  readonly base: GroupElement;
  readonly zero: GroupElement;
  readonly pointBytes: number;
  /** An untrusted encoding: canonical, on the curve, prime-order subgroup, not the identity (points.ts). */
  parse(bytes: Uint8Array, path?: string): GroupElement;
  /** An encoding this node produced or stored (decoded, not re-validated). */
  decode(bytes: Uint8Array): GroupElement;
  serialize(p: GroupElement): Bytes;
  scalarFromBytes(b: Uint8Array): bigint;
  scalarToBytes(n: bigint): Bytes;
  /** secp256k1: the point's y is odd (BIP340 x-only keys negate such points); always false on edwards25519. */
  hasOddY(p: GroupElement): boolean;
}

export const ED25519: Group = {
  name: 'ed25519',
  order: ed25519.Point.Fn.ORDER,
  Fn: ed25519.Point.Fn,
  base: ed25519.Point.BASE,
  zero: ed25519.Point.ZERO,
  pointBytes: 32,
  parse: (b, path = 'point') => validEd25519Point(b, path),
  decode: (b) => ed25519.Point.fromBytes(b),
  serialize: (p) => (p as EdPoint).toBytes() as Bytes,
  scalarFromBytes: (b) => bytesToNumberLE(b),
  scalarToBytes: (n) => numberToBytesLE(n, 32) as Bytes,
  hasOddY: () => false,
};

export const SECP256K1: Group = {
  name: 'secp256k1',
  order: secp256k1.Point.Fn.ORDER,
  Fn: secp256k1.Point.Fn as unknown as Group['Fn'],
  base: secp256k1.Point.BASE,
  zero: secp256k1.Point.ZERO,
  pointBytes: 33,
  parse: (b, path = 'point') => validSecp256k1Point(b, path),
  decode: (b) => secp256k1.Point.fromBytes(b),
  serialize: (p) => (p as SecpPoint).toBytes(true) as Bytes,
  scalarFromBytes: (b) => bytesToNumberBE(b),
  scalarToBytes: (n) => numberToBytesBE(n, 32) as Bytes,
  hasOddY: (p) => ((p as SecpPoint).toAffine().y & 1n) === 1n,
};

// noble's two point classes share their method shapes; these helpers combine points of one group.
export const add = (a: GroupElement, b: GroupElement): GroupElement => (a as EdPoint).add(b as EdPoint);
export const negate = (a: GroupElement): GroupElement => (a as EdPoint).negate();
export const eq = (a: GroupElement, b: GroupElement): boolean => (a as EdPoint).equals(b as EdPoint);
/** k·P in variable time (public inputs only); 0·P is the identity. */
export const mulUnsafe = (p: GroupElement, k: bigint): GroupElement => (k === 0n ? (p as EdPoint).subtract(p as EdPoint) : (p as EdPoint).multiplyUnsafe(k));
/** k·G in constant time (secret k); 0·G is the identity. */
export const mulBase = (g: Group, k: bigint): GroupElement => (k === 0n ? g.zero : (g.base as EdPoint).multiply(k));
export const mod = (a: bigint, n: bigint): bigint => ((a % n) + n) % n;
