/**
 * Byte strings as 32-bit words, for the OT extension's GF(2^128) rows and the TCCR hash: typed
 * arrays read words in the host's order, and both modules are written for a little-endian host,
 * which is asserted here, once, when either is loaded.
 */
import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('the OT extension and the TCCR hash assume a little-endian host');

/** A copy of `bytes` (a multiple of 4 long) in memory aligned for 32-bit words (native outputs need not be). */
export function alignedWords(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(bytes.length / 4);
  new Uint8Array(words.buffer).set(bytes);
  return words;
}
