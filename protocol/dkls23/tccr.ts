/**
 * The hash that turns extended-OT strings into scalars: a tweakable circular correlation-robust
 * (TCCR) hash from fixed-key AES, H(i, x) = π(π(x) ⊕ i) ⊕ π(x) (Guo, Katz, Wang, Yu, "Efficient
 * and Secure Multiparty Computation from Fixed-Key Block Ciphers", S&P 2020, §7.3), which is
 * what malicious OT extension (KOS) needs of its hash: Alice's two strings for OT j are x and
 * x ⊕ Δ, and Bob, who knows one, must learn nothing of H(j, ·) at the other, for every j at once.
 *
 * π is AES-128 under a key derived from the multiplication's label, public and fresh per
 * multiplication; the tweak is the OT index j and the output block k (each string yields
 * OUTPUT_BLOCKS blocks, the bytes of WIDTH 384-bit scalars). Every row of a multiplication goes
 * through native AES in two calls (AES-NI where the CPU has it), instead of one SHAKE call per
 * row: the hash was the largest single cost of a DKLs23 signature.
 */
import { createCipheriv, createHash } from 'node:crypto';

const BLOCK = 16;

/**
 * `count` strings of 16 bytes in `strings`; string s is hashed under tweak j = `indexOf(s)`.
 * Returns `blocks` output blocks per string, string after string.
 */
export function tccrExpand(label: Uint8Array, strings: Uint8Array, count: number, blocks: number, indexOf: (s: number) => number): Buffer {
  const key = createHash('sha256').update('mpc/dkls23/tccr-key/v1').update(label).digest().subarray(0, BLOCK);
  const pi = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  // π(x) for every string, once.
  const px = pi.update(strings.subarray(0, BLOCK * count));
  // π(x) ⊕ i for every output block: i = (j, k) in the block's first 8 bytes.
  const tweaked = Buffer.alloc(BLOCK * blocks * count);
  for (let s = 0; s < count; s++) {
    const j = indexOf(s);
    for (let k = 0; k < blocks; k++) {
      const at = BLOCK * (blocks * s + k);
      px.copy(tweaked, at, BLOCK * s, BLOCK * (s + 1));
      tweaked.writeUInt32BE((tweaked.readUInt32BE(at) ^ j) >>> 0, at);
      tweaked.writeUInt32BE((tweaked.readUInt32BE(at + 4) ^ k) >>> 0, at + 4);
    }
  }
  const out = pi.update(tweaked);
  pi.final();
  // ⊕ π(x): the Davies–Meyer feed-forward that makes it non-invertible.
  for (let s = 0; s < count; s++) {
    for (let k = 0; k < blocks; k++) {
      const at = BLOCK * (blocks * s + k);
      for (let b = 0; b < BLOCK; b++) out[at + b]! ^= px[BLOCK * s + b]!;
    }
  }
  px.fill(0);
  tweaked.fill(0);
  key.fill(0);
  return out;
}
