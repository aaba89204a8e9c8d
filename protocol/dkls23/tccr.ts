/**
 * The hash that turns extended-OT strings into scalars: a tweakable circular correlation-robust
 * (TCCR) hash from fixed-key AES, H(i, x) = π(π(x) ⊕ i) ⊕ π(x) (Guo, Katz, Wang, Yu, "Efficient
 * and Secure Multiparty Computation from Fixed-Key Block Ciphers", S&P 2020, §7.3), which is
 * what malicious OT extension (KOS) needs of its hash: Alice's two strings for OT j are x and
 * x ⊕ Δ, and Bob, who knows one, must learn nothing of H(j, ·) at the other, for every j at once.
 *
 * π is AES-128 under a key derived from the multiplication's label, public and fresh per
 * multiplication; the tweak is the OT index j and the output block k (each string yields
 * as many blocks as the caller asks, the bytes of its scalars). Every row of a multiplication goes
 * through native AES in two calls (AES-NI where the CPU has it), instead of one SHAKE call per
 * row: the hash was the largest single cost of a DKLs23 signature. The extension's PRG
 * (ot-extension.ts `kosColumns`) is the same hash over the base-OT seeds.
 */
import { createCipheriv, createHash, createSecretKey } from 'node:crypto';
import { alignedWords } from './words.ts';

const BLOCK = 16;
/** 32-bit words per block. */
const WORDS = BLOCK / 4;

// The tweak is XORed into the blocks as 32-bit words of the host's (little-endian, words.ts) order.
const bigEndianWord = (x: number): number => ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) >>> 0;

/**
 * `count` strings of 16 bytes in `strings`; string s is hashed under tweak j = `indexOf(s)`.
 * Returns `blocks` output blocks per string, string after string.
 */
export function tccrExpand(label: Uint8Array, strings: Uint8Array, count: number, blocks: number, indexOf: (s: number) => number): Buffer {
  const key = createHash('sha256').update('mpc/dkls23/tccr-key/v1').update(label).digest().subarray(0, BLOCK);
  // Through a key object: OpenSSL's setup from raw key bytes costs ~25 µs a call here, from an object ~5.
  const pi = createCipheriv('aes-128-ecb', createSecretKey(key), null).setAutoPadding(false);
  // π(x) for every string, once.
  const encrypted = pi.update(strings.subarray(0, BLOCK * count));
  const px = alignedWords(encrypted);
  encrypted.fill(0);
  // π(x) ⊕ i for every output block: i = (j, k), big-endian, in the block's first 8 bytes.
  const tweaked = new Uint32Array(WORDS * blocks * count);
  for (let s = 0; s < count; s++) {
    const j = bigEndianWord(indexOf(s));
    const from = WORDS * s;
    for (let k = 0; k < blocks; k++) {
      const at = WORDS * (blocks * s + k);
      tweaked[at] = px[from]! ^ j;
      tweaked[at + 1] = px[from + 1]! ^ bigEndianWord(k);
      tweaked[at + 2] = px[from + 2]!;
      tweaked[at + 3] = px[from + 3]!;
    }
  }
  const tweakedBytes = new Uint8Array(tweaked.buffer);
  const ciphertext = pi.update(tweakedBytes);
  pi.final();
  const out = alignedWords(ciphertext);
  ciphertext.fill(0);
  // ⊕ π(x): the Davies–Meyer feed-forward that makes it non-invertible.
  for (let s = 0; s < count; s++) {
    const from = WORDS * s;
    for (let k = 0; k < blocks; k++) {
      const at = WORDS * (blocks * s + k);
      for (let w = 0; w < WORDS; w++) out[at + w]! ^= px[from + w]!;
    }
  }
  px.fill(0);
  tweakedBytes.fill(0);
  key.fill(0);
  return Buffer.from(out.buffer);
}
