/**
 * secp256k1 by libsecp256k1 (protocol/curves/secp256k1-libsecp.ts) against what we did not write
 * either way: the BIP340 vectors (../shared/vectors/bip/bip340-test-vectors.csv) and noble's
 * arithmetic and `schnorr.verify`.
 */
import { randomBytes } from 'node:crypto';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBytes } from '@noble/curves/utils.js';
import { describe, expect, it } from 'vitest';
import { isValidSecp256k1Encoding, Secp256k1Encoded, verifyBip340Libsecp } from '../../protocol/curves/secp256k1-libsecp.ts';
import { bip340Rows, flip } from '../support/bip340-vectors.ts';

const { Point } = secp256k1;
const Fn = Point.Fn;
const rows = bip340Rows;
const randomScalar = (): bigint => Fn.create(BigInt('0x' + randomBytes(48).toString('hex')));
const randomPoint = () => Point.BASE.multiply(randomScalar());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('BIP340 verification by libsecp256k1', () => {
  it('every published vector with a 32-byte message; other lengths are left to the caller', () => {
    expect(rows.length).toBeGreaterThanOrEqual(15);
    let checked = 0;
    for (const [index, , publicKey, , message, signature, result, comment] of rows) {
      const got = verifyBip340Libsecp(hexToBytes(signature!), hexToBytes(message!), hexToBytes(publicKey!));
      if (hexToBytes(message!).length !== 32) {
        expect(got, `row ${index}`).toBeUndefined();
        continue;
      }
      expect(got, `row ${index}: ${comment}`).toBe(result === 'TRUE');
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  });

  it('agrees with noble on valid signatures and on each one altered in signature, message or key', () => {
    for (let i = 0; i < 40; i++) {
      const secret = randomBytes(32);
      const [message, key] = [randomBytes(32), schnorr.getPublicKey(secret)];
      const sig = schnorr.sign(message, secret, randomBytes(32));
      const cases: [Uint8Array, Uint8Array, Uint8Array][] = [[sig, message, key], [flip(sig, i % 64), message, key], [sig, flip(message, i % 32), key], [sig, message, flip(key, i % 32)]];
      for (const [s, m, p] of cases) expect(verifyBip340Libsecp(s, m, p)).toBe(schnorr.verify(s, m, p));
    }
  });

  it('refuses wrong lengths, r ≥ p, s ≥ n and a key with no point as invalid, not as errors', () => {
    const secret = randomBytes(32);
    const [message, key] = [randomBytes(32), schnorr.getPublicKey(secret)];
    const sig = schnorr.sign(message, secret, randomBytes(32));
    expect(verifyBip340Libsecp(sig.subarray(0, 63), message, key)).toBe(false);
    expect(verifyBip340Libsecp(sig, message, key.subarray(0, 31))).toBe(false);
    expect(verifyBip340Libsecp(Uint8Array.from([...new Uint8Array(32).fill(0xff), ...sig.subarray(32)]), message, key)).toBe(false);
    expect(verifyBip340Libsecp(Uint8Array.from([...sig.subarray(0, 32), ...Fn.toBytes(Fn.ORDER - 1n).map((b, i) => (i === 31 ? b + 1 : b))]), message, key)).toBe(false);
    expect(verifyBip340Libsecp(sig, message, hexToBytes('00'.repeat(31) + '05'))).toBe(false); // x = 5 has no point
  });
});

describe('points as compressed encodings, added and multiplied by libsecp256k1', () => {
  it('s·P and P + Q equal noble\'s for random points and scalars, and the edge scalars', () => {
    for (let i = 0; i < 60; i++) {
      const [P, Q] = [randomPoint(), randomPoint()];
      const [p, q] = [Secp256k1Encoded.of(P.toBytes(true)), Secp256k1Encoded.of(Q.toBytes(true))];
      for (const s of [randomScalar(), 1n, 2n, Fn.ORDER - 1n]) expect(hex(p.multiplyPublic(Fn.toBytes(s)).toBytes())).toBe(P.multiply(s).toHex(true));
      expect(hex(p.add(q).toBytes())).toBe(P.add(Q).toHex(true));
      expect(p.hasOddY()).toBe((P.toAffine().y & 1n) === 1n);
      expect(hex(Secp256k1Encoded.ZERO.add(p).toBytes())).toBe(P.toHex(true));
      expect(hex(p.add(p).toBytes())).toBe(P.double().toHex(true));
    }
  });

  it('the point at infinity has no encoding: P + (−P) and 0·P throw rather than yield bytes', () => {
    const P = randomPoint();
    const p = Secp256k1Encoded.of(P.toBytes(true));
    expect(() => p.add(Secp256k1Encoded.of(P.negate().toBytes(true)))).toThrow(/infinity/);
    expect(() => p.multiplyPublic(new Uint8Array(32))).toThrow();
    expect(() => Secp256k1Encoded.ZERO.toBytes()).toThrow(/infinity/);
  });

  it('an encoding is valid only if compressed (02/03), with x < p and on the curve', () => {
    const P = randomPoint();
    expect(isValidSecp256k1Encoding(P.toBytes(true))).toBe(true);
    expect(isValidSecp256k1Encoding(P.toBytes(false))).toBe(false); // uncompressed
    expect(isValidSecp256k1Encoding(new Uint8Array(33))).toBe(false);
    expect(isValidSecp256k1Encoding(hexToBytes('02' + 'ff'.repeat(32)))).toBe(false); // x ≥ p
    expect(isValidSecp256k1Encoding(hexToBytes('02' + '00'.repeat(31) + '05'))).toBe(false); // x = 5: not on the curve
    expect(isValidSecp256k1Encoding(Uint8Array.of(0x04, ...P.toBytes(true).subarray(1)))).toBe(false);
    expect(isValidSecp256k1Encoding(P.toBytes(true).subarray(1))).toBe(false);
  });
});
