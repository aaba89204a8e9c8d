/**
 * The primitives of channels, sealing and identities, checked against Wycheproof (../shared/
 * vectors/wycheproof, C2SP) through the functions our code calls, not the libraries directly:
 * AES-256-GCM (cluster/aead.ts: sealed shares, provider wrapping, backups, channel frames),
 * X25519, HKDF-SHA256 and ML-KEM-768 encapsulation (the hybrid channel), and Ed25519
 * verification (the eddsa-ed25519 scheme's independent verifier).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AeadError, aeadOpen, aeadSeal } from '../../cluster/aead.ts';
import { HandshakeError, hkdfSha256, mlkemEncapsulate, x25519Shared } from '../../cluster/transport/hybrid.ts';
import { schemeOf } from '../../protocol/schemes/index.ts';

const VECTORS = new URL('../../../shared/vectors/wycheproof/', import.meta.url);
interface Suite<G> {
  readonly testGroups: (G & { readonly tests: { tcId: number; result: 'valid' | 'invalid' | 'acceptable'; flags: string[]; comment?: string; [k: string]: unknown }[] })[];
}
const load = <G>(file: string): Suite<G> => JSON.parse(readFileSync(new URL(file, VECTORS), 'utf8')) as Suite<G>;
const hex = (s: unknown): Uint8Array => Uint8Array.from(Buffer.from(String(s), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('Wycheproof, through our primitives', () => {
  it('AES-256-GCM (96-bit nonces, 128-bit tags: what cluster/aead.ts supports)', () => {
    let checked = 0;
    for (const g of load<{ keySize: number; ivSize: number; tagSize: number }>('aes_gcm_test.json').testGroups) {
      if (g.keySize !== 256 || g.ivSize !== 96 || g.tagSize !== 128) continue;
      for (const t of g.tests) {
        const [key, iv, aad, msg, sealed] = [hex(t.key), hex(t.iv), hex(t.aad), hex(t.msg), hex(`${t.ct as string}${t.tag as string}`)];
        const label = `tcId ${t.tcId} ${t.comment ?? ''}`;
        if (t.result === 'valid') {
          expect(toHex(aeadSeal(key, iv, msg, aad)), label).toBe(toHex(sealed));
          expect(toHex(aeadOpen(key, iv, sealed, aad)), label).toBe(toHex(msg));
        } else {
          expect(() => aeadOpen(key, iv, sealed, aad), label).toThrow(AeadError);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('X25519: every valid case agrees, and every low-order peer key (all-zero secret) is refused', () => {
    let refused = 0;
    for (const t of load('x25519_test.json').testGroups[0]!.tests) {
      const label = `tcId ${t.tcId} ${t.flags.join(',')}`;
      if (t.flags.includes('ZeroSharedSecret')) {
        expect(() => x25519Shared(hex(t.private), hex(t.public)), label).toThrow(HandshakeError);
        refused++;
        continue;
      }
      // Valid and the other acceptable cases (twist points, non-canonical u): the RFC 7748 result.
      expect(toHex(x25519Shared(hex(t.private), hex(t.public))), label).toBe(t.shared);
    }
    expect(refused).toBeGreaterThan(20);
  });

  it('HKDF-SHA256', () => {
    let checked = 0;
    for (const g of load('hkdf_sha256_test.json').testGroups) {
      for (const t of g.tests) {
        const label = `tcId ${t.tcId} ${t.comment ?? ''}`;
        if (t.result === 'valid') expect(toHex(hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), t.size as number)), label).toBe(t.okm);
        else expect(() => hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), t.size as number), label).toThrow();
        checked++;
      }
    }
    expect(checked).toBe(86);
  });

  it('ML-KEM-768 encapsulation: known answers, and encapsulation keys that fail the modulus check are refused', () => {
    let valid = 0;
    let invalid = 0;
    for (const g of load('mlkem_768_encaps_test.json').testGroups) {
      for (const t of g.tests) {
        const label = `tcId ${t.tcId} ${t.flags.join(',')}`;
        if (t.result === 'valid') {
          const { cipherText, sharedSecret } = mlkemEncapsulate(hex(t.ek), hex(t.m));
          expect([toHex(cipherText), toHex(sharedSecret)], label).toEqual([t.c, t.K]);
          valid++;
        } else {
          expect(() => mlkemEncapsulate(hex(t.ek), hex(t.m)), label).toThrow();
          invalid++;
        }
      }
    }
    expect([valid > 0, invalid > 0]).toEqual([true, true]);
  });

  it('Ed25519 verification by the eddsa-ed25519 scheme (OpenSSL): valid signatures pass, every invalid one fails', () => {
    const verify = schemeOf('eddsa-ed25519').verify;
    let checked = 0;
    for (const g of load<{ publicKey: { pk: string } }>('ed25519_test.json').testGroups) {
      for (const t of g.tests) {
        expect(verify(hex(g.publicKey.pk), hex(t.msg), hex(t.sig)), `tcId ${t.tcId} ${t.comment ?? ''}`).toBe(t.result === 'valid');
        checked++;
      }
    }
    expect(checked).toBe(151);
  });
});
