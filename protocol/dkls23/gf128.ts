/**
 * GF(2^128) with the GCM polynomial X^128 + X^7 + X^2 + X + 1, as the KOS consistency check
 * needs it (KOS15 §3: a random linear combination over the extension field, not over GF(2)).
 * An element is four 32-bit words, least significant first: bit i of the element is the
 * coefficient of X^i, which is bit i of a 16-byte row read little-endian.
 */

export type Gf128 = Uint32Array;

export const gf128Zero = (): Gf128 => new Uint32Array(4);

export function gf128FromBytes(b: Uint8Array, offset = 0): Gf128 {
  const dv = new DataView(b.buffer, b.byteOffset + offset, 16);
  return Uint32Array.of(dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true));
}

export function gf128ToBytes(a: Gf128): Uint8Array {
  const out = new Uint8Array(16);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) dv.setUint32(4 * i, a[i]!, true);
  return out;
}

/** acc ^= x, in place. */
export function gf128XorInto(acc: Gf128, x: Gf128 | Uint32Array, xOffset = 0): void {
  acc[0]! ^= x[xOffset]!;
  acc[1]! ^= x[xOffset + 1]!;
  acc[2]! ^= x[xOffset + 2]!;
  acc[3]! ^= x[xOffset + 3]!;
}

/** a ← a·X, in place. */
export function gf128MulXInto(a: Gf128): void {
  const carry = a[3]! >>> 31;
  a[3] = (a[3]! << 1) | (a[2]! >>> 31);
  a[2] = (a[2]! << 1) | (a[1]! >>> 31);
  a[1] = (a[1]! << 1) | (a[0]! >>> 31);
  a[0] = (a[0]! << 1) ^ (-carry & 0x87);
}

/**
 * a·b: Horner over the bits of a, most significant first. Branch-free in both arguments (one is
 * the long-term Δ in the KOS check): each bit selects b through a mask, never through a branch.
 */
export function gf128Mul(a: Gf128, b: Gf128): Gf128 {
  const acc = gf128Zero();
  for (let i = 127; i >= 0; i--) {
    gf128MulXInto(acc);
    gf128XorMaskedInto(acc, b, 0, a[i >>> 5]! >>> (i & 31));
  }
  return acc;
}

/** acc ^= x·bit for a secret bit, without branching on it. */
export function gf128XorMaskedInto(acc: Gf128, x: Uint32Array, xOffset: number, bit: number): void {
  const mask = -(bit & 1);
  acc[0]! ^= x[xOffset]! & mask;
  acc[1]! ^= x[xOffset + 1]! & mask;
  acc[2]! ^= x[xOffset + 2]! & mask;
  acc[3]! ^= x[xOffset + 3]! & mask;
}

/** Σ_i X^i·y_i for 128 elements y_0..y_127 stored back to back in `ys` (4 words each). */
export function gf128HornerX(ys: Uint32Array): Gf128 {
  const acc = gf128Zero();
  for (let i = 127; i >= 0; i--) {
    gf128MulXInto(acc);
    gf128XorInto(acc, ys, 4 * i);
  }
  return acc;
}

export function gf128Equal(a: Gf128, b: Gf128): boolean {
  return ((a[0]! ^ b[0]!) | (a[1]! ^ b[1]!) | (a[2]! ^ b[2]!) | (a[3]! ^ b[3]!)) === 0;
}
