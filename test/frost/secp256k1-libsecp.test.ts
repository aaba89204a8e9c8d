/**
 * secp256k1 by libsecp256k1 (protocol/curves/secp256k1-libsecp.ts) against what we did not write
 * either way: the BIP340 vectors (../shared/vectors/bip/bip340-test-vectors.csv), Wycheproof's
 * ECDSA secp256k1 vectors (../shared/vectors/wycheproof/), and noble's arithmetic and verifiers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBytes } from '@noble/curves/utils.js';
import { describe, expect, it } from 'vitest';
import {
  decompressSecp256k1,
  isValidSecp256k1Encoding,
  secp256k1BaseMulSecret,
  secp256k1MulSecret,
  Secp256k1Encoded,
  verifyBip340Libsecp,
  verifyEcdsaLibsecp,
  verifyEcdsaRecoverableLibsecp,
} from '../../protocol/curves/secp256k1-libsecp.ts';
import { ecdsaSecp256k1 } from '../../protocol/schemes/ecdsa-secp256k1.ts';
import { schnorrBip340 } from '../../protocol/schemes/schnorr-bip340.ts';
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

  it('the point at infinity has no encoding: P + (−P) and 0·P yield no bytes', () => {
    const P = randomPoint();
    const p = Secp256k1Encoded.of(P.toBytes(true));
    const atInfinity = p.add(Secp256k1Encoded.of(P.negate().toBytes(true)));
    expect(atInfinity.isZero()).toBe(true);
    expect(() => atInfinity.toBytes()).toThrow(/infinity/);
    expect(hex(atInfinity.add(p).toBytes())).toBe(P.toHex(true)); // and it is neutral
    expect(() => p.multiplyPublic(new Uint8Array(32))).toThrow();
    expect(p.multiplySecret(0n).isZero() && Secp256k1Encoded.baseMultiplySecret(0n).isZero()).toBe(true);
    expect(() => Secp256k1Encoded.ZERO.toBytes()).toThrow(/infinity/);
  });

  it('decompression gives noble\'s uncompressed encoding, and nothing for an encoding that is not a valid compressed one', () => {
    for (let i = 0; i < 40; i++) {
      const P = randomPoint();
      expect(hex(decompressSecp256k1(P.toBytes(true))!)).toBe(P.toHex(false));
    }
    for (const bad of ['02' + 'ff'.repeat(32), '02' + '00'.repeat(31) + '05', '04' + '11'.repeat(32), '02' + '11'.repeat(31)]) expect(decompressSecp256k1(hexToBytes(bad))).toBeUndefined();
    expect(decompressSecp256k1(randomPoint().toBytes(false))).toBeUndefined();
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

/**
 * Wycheproof's secp256k1/SHA-256 Bitcoin vectors with a verdict (not "acceptable"): the key
 * (uncompressed), r ‖ s when the signature is DER noble parses (undefined otherwise: invalid before
 * any verifier sees it), and the digest of the message.
 */
function wycheproofBitcoinCases(): { tcId: number; key: Uint8Array; compact: Uint8Array | undefined; digest: Uint8Array; valid: boolean }[] {
  const file = JSON.parse(readFileSync(new URL('../../../shared/vectors/wycheproof/ecdsa_secp256k1_sha256_bitcoin_test.json', import.meta.url), 'utf8')) as {
    testGroups: { publicKey: { uncompressed: string }; tests: { tcId: number; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable' }[] }[];
  };
  return file.testGroups.flatMap((g) =>
    g.tests
      .filter((t) => t.result !== 'acceptable')
      .map((t) => {
        let compact: Uint8Array | undefined;
        try {
          compact = secp256k1.Signature.fromBytes(hexToBytes(t.sig), 'der').toBytes('compact');
        } catch {
          compact = undefined;
        }
        return { tcId: t.tcId, key: hexToBytes(g.publicKey.uncompressed), compact, digest: createHash('sha256').update(hexToBytes(t.msg)).digest(), valid: t.result === 'valid' };
      }),
  );
}

describe('ECDSA verification by libsecp256k1', () => {
  it('agrees with every Wycheproof secp256k1/SHA-256 Bitcoin vector (DER parsed by noble, then r ‖ s)', () => {
    const cases = wycheproofBitcoinCases();
    for (const { tcId, key, compact, digest, valid } of cases) {
      expect([tcId, compact !== undefined && verifyEcdsaLibsecp(compact, digest, key)]).toEqual([tcId, valid]);
    }
    expect(cases.length).toBeGreaterThan(400);
  });

  it('agrees with noble on valid signatures and on each one altered in signature, digest or key; refuses high s', () => {
    for (let i = 0; i < 40; i++) {
      const secret = randomBytes(32);
      const [digest, key] = [randomBytes(32), secp256k1.getPublicKey(secret, true)];
      const sig = secp256k1.sign(digest, secret, { prehash: false });
      const cases: [Uint8Array, Uint8Array, Uint8Array][] = [[sig, digest, key], [flip(sig, i % 64), digest, key], [sig, flip(digest, i % 32), key], [sig, digest, flip(key, 1 + (i % 32))]];
      for (const [s, d, p] of cases) {
        let expected: boolean;
        try {
          expected = secp256k1.verify(s, d, p, { prehash: false });
        } catch {
          expected = false;
        }
        expect(verifyEcdsaLibsecp(s, d, p)).toBe(expected);
      }
      const high = Uint8Array.from([...sig.subarray(0, 32), ...Fn.toBytes(Fn.ORDER - Fn.fromBytes(sig.subarray(32)))]);
      expect(verifyEcdsaLibsecp(high, digest, key)).toBe(false);
    }
  });
});

/** A fresh key, a random digest and noble's signature of it with its recovery id. */
function recoverableSignature(): { secret: Uint8Array; digest: Uint8Array; key: Uint8Array; id: number; sig: Uint8Array } {
  const secret = randomBytes(32);
  const [digest, key] = [randomBytes(32), secp256k1.getPublicKey(secret, true)];
  const signed = secp256k1.sign(digest, secret, { prehash: false, format: 'recovered' });
  return { secret, digest, key, id: signed[0]!, sig: signed.subarray(1) };
}

describe('ECDSA with a recovery id by libsecp256k1 (what ecrecover will give)', () => {
  /** noble's answer: the id recovers the key and s is low. */
  const nobleRecovers = (sig: Uint8Array, digest: Uint8Array, key: Uint8Array, id: number): boolean => {
    try {
      const s = secp256k1.Signature.fromBytes(sig, 'compact');
      return !s.hasHighS() && hex(s.addRecoveryBit(id).recoverPublicKey(digest).toBytes(true)) === hex(key);
    } catch {
      return false;
    }
  };

  it('agrees with noble\'s recovery on valid signatures, the other id, and each altered in signature, digest or key', () => {
    for (let i = 0; i < 40; i++) {
      const { digest, key, id, sig } = recoverableSignature();
      expect(verifyEcdsaRecoverableLibsecp(sig, digest, key, id)).toBe(true);
      expect(verifyEcdsaRecoverableLibsecp(sig, digest, key, id ^ 1)).toBe(false);
      const cases: [Uint8Array, Uint8Array, Uint8Array][] = [[flip(sig, i % 64), digest, key], [sig, flip(digest, i % 32), key], [sig, digest, flip(key, 1 + (i % 32))]];
      for (const [s, d, p] of cases) for (const r of [0, 1]) expect(verifyEcdsaRecoverableLibsecp(s, d, p, r)).toBe(nobleRecovers(s, d, p, r));
    }
  });

  it('refuses a high s (which recovers the same key with the other id), r or s of 0 or n, ids other than 0 and 1, and other lengths', () => {
    const { secret, digest, key, id, sig } = recoverableSignature();
    const high = Uint8Array.from([...sig.subarray(0, 32), ...Fn.toBytes(Fn.ORDER - Fn.fromBytes(sig.subarray(32)))]);
    expect(secp256k1.Signature.fromBytes(high, 'compact').addRecoveryBit(id ^ 1).recoverPublicKey(digest).toHex(true)).toBe(hex(key));
    expect(verifyEcdsaRecoverableLibsecp(high, digest, key, id ^ 1)).toBe(false);
    const n = hexToBytes(Fn.ORDER.toString(16));
    for (const bad of [new Uint8Array(64), Uint8Array.from([...new Uint8Array(32), ...sig.subarray(32)]), Uint8Array.from([...sig.subarray(0, 32), ...new Uint8Array(32)]), Uint8Array.from([...n, ...sig.subarray(32)]), Uint8Array.from([...sig.subarray(0, 32), ...n])]) {
      for (const r of [0, 1]) expect(verifyEcdsaRecoverableLibsecp(bad, digest, key, r)).toBe(false);
    }
    for (const r of [2, 3, -1, 0.5]) expect(verifyEcdsaRecoverableLibsecp(sig, digest, key, r)).toBe(false);
    expect(verifyEcdsaRecoverableLibsecp(sig.subarray(0, 63), digest, key, id)).toBe(false);
    expect(verifyEcdsaRecoverableLibsecp(sig, digest.subarray(0, 31), key, id)).toBe(false);
    expect(verifyEcdsaRecoverableLibsecp(sig, digest, secp256k1.getPublicKey(secret, false), id)).toBe(false);
  });

  it('for every Wycheproof secp256k1/SHA-256 Bitcoin vector: a valid one verifies with the one id noble recovers with (none if that is 2 or 3), an invalid one with none', () => {
    const cases = wycheproofBitcoinCases();
    let largeR = 0;
    for (const { tcId, key: uncompressed, compact, digest, valid } of cases) {
      const key = Point.fromBytes(uncompressed).toBytes(true);
      const ids = compact === undefined ? [] : [0, 1].filter((r) => verifyEcdsaRecoverableLibsecp(compact, digest, key, r));
      // The id noble recovers the key with; 2 or 3 (an R whose x is ≥ n) is refused by design.
      const nobleId = valid ? [0, 1, 2, 3].find((r) => nobleRecovers(compact!, digest, key, r)) : undefined;
      expect([tcId, ids]).toEqual([tcId, nobleId !== undefined && nobleId < 2 ? [nobleId] : []]);
      if (nobleId !== undefined && nobleId >= 2) largeR++;
    }
    expect(cases.length).toBeGreaterThan(400);
    expect(largeR).toBeGreaterThan(0); // the vectors do reach the refusal of ids 2 and 3
  });
});

describe('the schemes\' verifiers (the coordinator\'s check of every signature)', () => {
  it('ecdsa-secp256k1 agrees with noble with and without a recovery id, and takes compressed keys only', () => {
    for (let i = 0; i < 20; i++) {
      const { secret, digest, key, id, sig } = recoverableSignature();
      for (const [s, d, p] of [[sig, digest, key], [flip(sig, i), digest, key], [sig, flip(digest, i), key]] as const) {
        expect(ecdsaSecp256k1.verify(p, d, s)).toBe(secp256k1.verify(s, d, p, { prehash: false, lowS: true }));
        expect(ecdsaSecp256k1.verify(p, d, s, id)).toBe(secp256k1.verify(s, d, p, { prehash: false, lowS: true }));
      }
      expect(ecdsaSecp256k1.verify(key, digest, sig, id ^ 1)).toBe(false);
      expect(ecdsaSecp256k1.verify(secp256k1.getPublicKey(secret, false), digest, sig)).toBe(false);
    }
  });

  it('schnorr-bip340 agrees with noble, and takes 32-byte messages and x-only keys only', () => {
    for (let i = 0; i < 20; i++) {
      const secret = randomBytes(32);
      const [message, key] = [randomBytes(32), schnorr.getPublicKey(secret)];
      const sig = schnorr.sign(message, secret);
      for (const [s, m, p] of [[sig, message, key], [flip(sig, i), message, key], [sig, flip(message, i), key], [sig, message, flip(key, i)]] as const) {
        let expected: boolean;
        try {
          expected = schnorr.verify(s, m, p);
        } catch {
          expected = false;
        }
        expect(schnorrBip340.verify(p, m, s)).toBe(expected);
      }
      expect(schnorrBip340.verify(key, Uint8Array.of(...message, 0), sig)).toBe(false);
      expect(schnorrBip340.verify(secp256k1.getPublicKey(secret, true), message, sig)).toBe(false);
    }
  });
});

describe('secret multiplications by libsecp256k1', () => {
  it('x·G equals noble\'s for random and edge scalars', () => {
    for (const x of [1n, 2n, Fn.ORDER - 1n, ...Array.from({ length: 60 }, randomScalar)]) {
      const expected = Point.BASE.multiply(x);
      expect(hex(secp256k1BaseMulSecret(x)), `x = ${x}`).toBe(expected.toHex(true));
    }
  });

  it('k·P equals noble\'s for random and edge scalars, whichever form P comes in', () => {
    for (let i = 0; i < 40; i++) {
      const P = randomPoint();
      for (const k of [randomScalar(), 1n, 2n, Fn.ORDER - 1n]) {
        expect(hex(secp256k1MulSecret(P.toBytes(true), k))).toBe(P.multiply(k).toHex(true));
        expect(hex(secp256k1MulSecret(P.toBytes(false), k))).toBe(P.multiply(k).toHex(true));
      }
    }
  });

  it('refuses 0 and scalars out of range rather than reducing them, and a point that does not parse', () => {
    const P = randomPoint().toBytes(true);
    for (const x of [0n, -1n, Fn.ORDER, Fn.ORDER + 1n]) {
      expect(() => secp256k1BaseMulSecret(x)).toThrow(RangeError);
      expect(() => secp256k1MulSecret(P, x)).toThrow(RangeError);
    }
    expect(() => secp256k1MulSecret(hexToBytes('02' + '00'.repeat(31) + '05'), 3n)).toThrow();
  });

  it('leaves no copy of the scalar\'s bytes in the WebAssembly module\'s memory', async () => {
    // tiny-secp256k1's own loader module, the instance its functions run in (the package
    // exports only its functions). What libsecp256k1 leaves on its stack in this memory, the
    // scalar as little-endian limbs until the next call overwrites them, is not ours to wipe
    // (SECURITY.md).
    const loader = (await import(new URL('./wasm_loader.js', import.meta.resolve('tiny-secp256k1')).href)) as { default: { memory: { buffer: ArrayBuffer } } };
    const memory = (): Buffer => Buffer.from(loader.default.memory.buffer);
    for (let i = 0; i < 20; i++) {
      const k = randomScalar();
      const before = Buffer.from(memory());
      if (i % 2) secp256k1BaseMulSecret(k);
      else secp256k1MulSecret(randomPoint().toBytes(true), k);
      expect(memory().equals(before), 'the call ran in this memory').toBe(false);
      const encoded = Buffer.from(Fn.toBytes(k));
      expect(memory().indexOf(encoded.subarray(16))).toBe(-1);
      expect(memory().indexOf(encoded.subarray(8, 24))).toBe(-1);
      expect(memory().indexOf(encoded.subarray(0, 16))).toBe(-1);
    }
  });
});
