/**
 * secp256k1's GLV endomorphism ψ(x, y) = (β·x, y) = [λ]·(x, y), and what it buys for public
 * checks: random check weights drawn directly as ρ1 + ρ2·λ with 64-bit halves, whose multiples
 * cost a 64-bit walk.
 */
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';

export type SecpPoint = InstanceType<typeof secp256k1.Point>;
const { Point } = secp256k1;
const N = Point.Fn.ORDER;

/** β, a primitive cube root of unity in Fp; λ, the matching one in Fn. */
const BETA = 0x7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501een;
export const LAMBDA = 0x5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72n;
/** ψ(P) = λ·P: one field product in projective coordinates. */
export const psi = (p: SecpPoint): SecpPoint => new Point(Point.Fp.mul(p.X, BETA), p.Y, p.Z);

/** A check weight ρ = low + high·λ mod n, with its halves. */
export interface GlvWeight {
  readonly value: bigint;
  readonly low: bigint;
  readonly high: bigint;
}

/**
 * A random weight of 2^128 possible values: low and high uniform below 2^64. Distinct pairs give
 * distinct ρ mod n, since a collision would be a nonzero vector of λ's lattice shorter than
 * 2^65, and its shortest vectors are ~2^128 long; so a check combined with ρ drawn after its
 * inputs are fixed misses a false equation with probability 2^-128, as with a 128-bit ρ.
 */
export function glvWeight(rng: (n: number) => Uint8Array): GlvWeight {
  const bytes = rng(16);
  const low = BigInt('0x' + Buffer.from(bytes.subarray(0, 8)).toString('hex'));
  const high = BigInt('0x' + Buffer.from(bytes.subarray(8, 16)).toString('hex'));
  return { value: (low + high * LAMBDA) % N, low, high };
}

/** ρ·P as low·P + high·ψ(P): one 64-bit walk. Variable time; for public points and weights. */
export const mulWeight = (p: SecpPoint, w: GlvWeight): SecpPoint => mulAddUnsafe(Point, [p, psi(p)], [w.low, w.high]);
