/**
 * The TCCR hash of the OT extension, H(i, x) = π(π(x) ⊕ i) ⊕ π(x) with π = AES-128 under the
 * label's key, recomputed block by block with an AES we did not write into our code path
 * (@noble/ciphers, pure JS, beside the native AES the hash uses): every output block, for both
 * strings of an OT and every tweak.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ecb } from '@noble/ciphers/aes.js';
import { describe, expect, it } from 'vitest';
import { tccrExpand } from '../../protocol/dkls23/tccr.ts';

function reference(label: Uint8Array, x: Uint8Array, j: number, k: number): Uint8Array {
  const key = createHash('sha256').update('mpc/dkls23/tccr-key/v1').update(label).digest().subarray(0, 16);
  const pi = (b: Uint8Array) => ecb(key, { disablePadding: true }).encrypt(b);
  const px = pi(x);
  const tweak = Uint8Array.from(px);
  const view = new DataView(tweak.buffer);
  view.setUint32(0, view.getUint32(0) ^ j);
  view.setUint32(4, view.getUint32(4) ^ k);
  const out = pi(tweak);
  return out.map((b, i) => b ^ px[i]!);
}

describe('TCCR hash (fixed-key AES)', () => {
  it('equals π(π(x) ⊕ (j, k)) ⊕ π(x) computed with an independent AES, for both strings of each OT and every output block', () => {
    const label = new Uint8Array(randomBytes(32));
    const count = 6;
    const strings = new Uint8Array(randomBytes(16 * count));
    const blocks = 9;
    const out = tccrExpand(label, strings, count, blocks, (s) => 1000 + (s >>> 1));
    for (let s = 0; s < count; s++) {
      for (let k = 0; k < blocks; k++) {
        const want = reference(label, strings.subarray(16 * s, 16 * (s + 1)), 1000 + (s >>> 1), k);
        expect(Buffer.from(out.subarray(16 * (blocks * s + k), 16 * (blocks * s + k + 1))).toString('hex'), `string ${s} block ${k}`).toBe(Buffer.from(want).toString('hex'));
      }
    }
  });

  it('separates tweaks and labels: the same string gives unrelated blocks under another index or label', () => {
    const x = new Uint8Array(randomBytes(16));
    const label = new Uint8Array(32);
    const a = tccrExpand(label, x, 1, 2, () => 7);
    const b = tccrExpand(label, x, 1, 2, () => 8);
    const c = tccrExpand(new Uint8Array(32).fill(1), x, 1, 2, () => 7);
    expect(a.equals(b)).toBe(false);
    expect(a.equals(c)).toBe(false);
    expect(a.subarray(0, 16).equals(a.subarray(16, 32))).toBe(false);
  });
});
