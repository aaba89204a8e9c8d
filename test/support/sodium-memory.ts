/** What a test can see of libsodium's WebAssembly memory: whether a secret was left in it. */
import sodium from 'libsodium-wrappers-sumo';
import { expect } from 'vitest';

/** The libsodium module's whole memory, read afresh (it is replaced when it grows). */
export async function sodiumMemory(): Promise<Buffer> {
  await sodium.ready;
  const heap = (sodium as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8;
  return Buffer.from(heap.buffer, heap.byteOffset, heap.byteLength);
}

/**
 * Fails when any 16 bytes of a secret (its last half, or its middle) are anywhere in libsodium's
 * memory: a copy, even one whose first words a freed block's allocator links overwrote.
 */
export async function expectNoCopyInSodium(secrets: readonly Uint8Array[], what = 'secret'): Promise<void> {
  const memory = await sodiumMemory();
  for (const secret of secrets.map((b) => Buffer.from(b))) {
    expect(memory.indexOf(secret.subarray(16)), what).toBe(-1);
    expect(memory.indexOf(secret.subarray(8, 24)), what).toBe(-1);
  }
}
