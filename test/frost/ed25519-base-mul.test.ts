/** libsodium's edwards25519 base multiplication (protocol/curves/ed25519-base-mul.ts) against noble's. */
import { ed25519 } from '@noble/curves/ed25519.js';
import sodium from 'libsodium-wrappers-sumo';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519BaseMul } from '../../protocol/curves/ed25519-base-mul.ts';

const { Point } = ed25519;
const L = Point.Fn.ORDER;
const randomScalar = (): bigint => Point.Fn.create(BigInt('0x' + randomBytes(48).toString('hex')));

describe('x·B by libsodium', () => {
  it('equals noble\'s x·B for random and edge scalars', () => {
    const scalars = [1n, 2n, 8n, L - 1n, L - 8n, (1n << 252n) - 1n, 1n << 252n, ...Array.from({ length: 100 }, randomScalar)];
    for (const x of scalars) expect(Buffer.from(ed25519BaseMul(x)).toString('hex'), `x = ${x}`).toBe(Point.BASE.multiply(x).toHex());
  });

  it('refuses 0 and scalars out of range rather than reducing them', () => {
    for (const x of [0n, -1n, L, L + 1n, 1n << 255n]) expect(() => ed25519BaseMul(x)).toThrow(RangeError);
  });

  it('leaves no copy of the scalar in the WebAssembly module\'s memory', async () => {
    await sodium.ready;
    const memory = (): Buffer => {
      const heap = (sodium as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8;
      return Buffer.from(heap.buffer, heap.byteOffset, heap.byteLength);
    };
    for (let i = 0; i < 20; i++) {
      const x = randomScalar();
      ed25519BaseMul(x);
      // Any 16 bytes of its encoding would be a copy (a freed block's first words become the allocator's links).
      const encoded = Buffer.from(Point.Fn.toBytes(x));
      expect(memory().indexOf(encoded.subarray(16))).toBe(-1);
      expect(memory().indexOf(encoded.subarray(8, 24))).toBe(-1);
    }
  });
});
