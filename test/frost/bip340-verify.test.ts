/**
 * The aggregator's BIP340 verifier (protocol/curves/bip340-verify.ts) against what we did not
 * write: the BIP340 vectors (../shared/vectors/bip/bip340-test-vectors.csv) and noble's
 * `schnorr.verify`, on a key's first use (no table) and later ones (through its own table).
 */
import { randomBytes } from 'node:crypto';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBytes, numberToBytesBE } from '@noble/curves/utils.js';
import { describe, expect, it } from 'vitest';
import { verifyBip340 } from '../../protocol/curves/bip340-verify.ts';
import { bip340Rows, flip } from '../support/bip340-vectors.ts';

const rows = bip340Rows;

const liftable = (x: bigint) => {
  try {
    secp256k1.Point.fromBytes(Uint8Array.of(0x02, ...numberToBytesBE(x, 32)));
    return true;
  } catch {
    return false;
  }
};


describe('BIP340 verification with remembered keys', () => {
  it('every published vector, three times over (the first without the key\'s table, the third with it)', () => {
    expect(rows.length).toBeGreaterThanOrEqual(15);
    for (let pass = 0; pass < 3; pass++) {
      for (const [index, , publicKey, , message, signature, result, comment] of rows) {
        expect(verifyBip340(hexToBytes(signature!), hexToBytes(message!), hexToBytes(publicKey!)), `row ${index} pass ${pass}: ${comment}`).toBe(result === 'TRUE');
      }
    }
  });

  it('agrees with noble on valid and altered signatures, messages and keys, before and after a key gets its table', () => {
    for (let k = 0; k < 6; k++) {
      const secret = secp256k1.utils.randomSecretKey();
      const key = schnorr.getPublicKey(secret);
      for (let i = 0; i < 8; i++) {
        const message = randomBytes(i % 3 === 0 ? 32 : 1 + i * 7);
        const sig = schnorr.sign(message, secret);
        const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
          [sig, message, key],
          [flip(sig, 31), message, key],
          [flip(sig, 63), message, key],
          [sig, flip(message, 0), key],
          [sig, message, flip(key, 31)],
        ];
        for (const [s, m, p] of cases) expect(verifyBip340(s, m, p)).toBe(schnorr.verify(s, m, p));
        expect(verifyBip340(sig, message, key)).toBe(true);
      }
    }
  });

  it('refuses what noble refuses at the edges: r ≥ p, s ≥ n, s = 0, r = 0, a key that is not an x-coordinate, wrong lengths', () => {
    const secret = secp256k1.utils.randomSecretKey();
    const key = schnorr.getPublicKey(secret);
    const message = randomBytes(32);
    const sig = schnorr.sign(message, secret);
    const { Fp, Fn } = secp256k1.Point;
    const withR = (r: bigint) => Uint8Array.of(...numberToBytesBE(r, 32), ...sig.subarray(32));
    const withS = (s: bigint) => Uint8Array.of(...sig.subarray(0, 32), ...numberToBytesBE(s, 32));
    for (const bad of [withR(Fp.ORDER), withR(0n), withS(Fn.ORDER), withS(0n)]) {
      expect(verifyBip340(bad, message, key)).toBe(false);
      expect(schnorr.verify(bad, message, key)).toBe(false);
    }
    expect(verifyBip340(sig.subarray(0, 63), message, key)).toBe(false);
    expect(verifyBip340(sig, message, key.subarray(0, 31))).toBe(false);
    // The smallest x for which x³ + 7 is not a square mod p: no point has it, so no key does.
    let x = 1n;
    while (liftable(x)) x++;
    expect(verifyBip340(sig, message, numberToBytesBE(x, 32))).toBe(false);
    expect(schnorr.verify(sig, message, numberToBytesBE(x, 32))).toBe(false);
  });
});
