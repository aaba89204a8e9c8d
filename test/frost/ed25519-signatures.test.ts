/**
 * Ed25519 signatures on native libsodium (protocol/curves/ed25519-signatures.ts), which members
 * make on every envelope and audit entry: RFC 8032's own test vectors, the same bytes OpenSSL
 * makes and accepts (anyone checking an envelope or audit entry with a standard tool gets the
 * same answer), and every Wycheproof case through the verifier.
 */
import { generateKeyPairSync, randomBytes, sign as opensslSign, verify as opensslVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ed25519PrivateKey, ed25519PublicKey } from '../../protocol/curves/curve25519-keys.ts';
import { ed25519Signer, ed25519Verify } from '../../protocol/curves/ed25519-signatures.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** RFC 8032 section 7.1, TEST 1, 2 and 3: secret key (seed), public key, message, signature. */
const RFC8032 = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '', 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'],
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', '72', '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'],
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'af82', '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'],
] as const;

describe('Ed25519 signatures on libsodium', () => {
  it("makes RFC 8032's signatures and public keys, and accepts them", () => {
    for (const [seed, publicKey, message, signature] of RFC8032) {
      const signer = ed25519Signer(hex(seed));
      expect(toHex(signer.publicKey)).toBe(publicKey);
      expect(toHex(signer.sign(hex(message)))).toBe(signature);
      expect(ed25519Verify(hex(publicKey), hex(message), hex(signature))).toBe(true);
    }
  });

  it('signs byte for byte as OpenSSL does, and each accepts the other', () => {
    for (let i = 0; i < 20; i++) {
      const seed = randomBytes(32);
      const message = randomBytes(i * 37);
      const signer = ed25519Signer(seed);
      const ours = signer.sign(message);
      expect(toHex(ours)).toBe(toHex(opensslSign(null, message, ed25519PrivateKey(seed))));
      expect(opensslVerify(null, message, ed25519PublicKey(signer.publicKey), ours)).toBe(true);
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
    expect(ed25519Verify(raw, Buffer.from('envelope'), opensslSign(null, Buffer.from('envelope'), privateKey))).toBe(true);
  });

  it('refuses a changed message, a changed signature, another key and wrong lengths', () => {
    const signer = ed25519Signer(randomBytes(32));
    const message = Buffer.from('mpc-signer/envelope/v1');
    const signature = signer.sign(message);
    expect(ed25519Verify(signer.publicKey, message, signature)).toBe(true);
    expect(ed25519Verify(signer.publicKey, Buffer.from('mpc-signer/envelope/v2'), signature)).toBe(false);
    for (const at of [0, 31, 32, 63]) {
      const bent = Uint8Array.from(signature);
      bent[at]! ^= 1;
      expect(ed25519Verify(signer.publicKey, message, bent), `byte ${at}`).toBe(false);
    }
    expect(ed25519Verify(ed25519Signer(randomBytes(32)).publicKey, message, signature)).toBe(false);
    expect(ed25519Verify(signer.publicKey.subarray(0, 31), message, signature)).toBe(false);
    expect(ed25519Verify(signer.publicKey, message, signature.subarray(0, 63))).toBe(false);
    expect(() => ed25519Signer(new Uint8Array(31))).toThrow(RangeError);
  });

  it('verifies as Wycheproof says: every valid case passes, every invalid one fails', () => {
    const suite = JSON.parse(readFileSync(new URL('../../../shared/vectors/wycheproof/ed25519_test.json', import.meta.url), 'utf8')) as {
      testGroups: { publicKey: { pk: string }; tests: { tcId: number; msg: string; sig: string; result: string; comment?: string }[] }[];
    };
    let checked = 0;
    for (const g of suite.testGroups) {
      for (const t of g.tests) {
        expect(ed25519Verify(hex(g.publicKey.pk), hex(t.msg), hex(t.sig)), `tcId ${t.tcId} ${t.comment ?? ''}`).toBe(t.result === 'valid');
        checked++;
      }
    }
    expect(checked).toBe(151);
  });
});
