/**
 * Known-answer test of the hybrid channel's key schedule (cluster/transport/hybrid.ts): fixed
 * inputs give fixed keys, recomputed here with an independent HKDF and SHA-256 (noble's, while
 * the code uses OpenSSL's), and each of the two shared secrets changes every key.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { channelKeySchedule, transcriptHash } from '../../../cluster/transport/hybrid.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);
const X = Uint8Array.from({ length: 32 }, (_, i) => i); // the X25519 shared secret
const K = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i); // the ML-KEM-768 shared secret
const HELLO = utf8('hello');
const ACCEPT = utf8('accept');

/** The transcript hash by its definition: SHA-256 over 4-byte big-endian length-prefixed parts. */
function referenceTranscript(...parts: Uint8Array[]): Uint8Array {
  const h = sha256.create();
  for (const p of parts) {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, p.length);
    h.update(len).update(p);
  }
  return h.digest();
}

describe('hybrid channel key schedule (known answers)', () => {
  it('gives the pinned transcript hash and keys, which an independent HKDF-SHA256 reproduces', () => {
    const th = transcriptHash(HELLO, ACCEPT);
    expect(hex(th)).toBe('141ff935ae9f426e35698f51d9e0d8124218c30611f350cad56ce11e06ec69ea');
    expect(hex(referenceTranscript(utf8('mpc-signer/hybrid-channel/v1'), HELLO, ACCEPT))).toBe(hex(th));
    const keys = channelKeySchedule(X, K, th);
    expect(hex(keys.initiatorToResponder)).toBe('f8f9d94ebfd2db3a6761e98c996a64d614a95dca2f03b20652f172c9581b2542');
    expect(hex(keys.responderToInitiator)).toBe('82790417631b13e94a8d79e96df4166555149388985dc5e3bd9edc6d693dec10');
    const reference = (label: string) => hex(hkdf(sha256, new Uint8Array([...X, ...K]), th, utf8(`mpc-signer/hybrid-channel/v1 ${label}`), 32));
    expect(hex(keys.initiatorToResponder)).toBe(reference('initiator->responder'));
    expect(hex(keys.responderToInitiator)).toBe(reference('responder->initiator'));
  });

  it('depends on both shared secrets and on the transcript: changing any one changes both keys', () => {
    const th = transcriptHash(HELLO, ACCEPT);
    const base = channelKeySchedule(X, K, th);
    const flip = (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x));
    for (const other of [channelKeySchedule(flip(X), K, th), channelKeySchedule(X, flip(K), th), channelKeySchedule(X, K, transcriptHash(HELLO, flip(ACCEPT)))]) {
      expect(hex(other.initiatorToResponder)).not.toBe(hex(base.initiatorToResponder));
      expect(hex(other.responderToInitiator)).not.toBe(hex(base.responderToInitiator));
    }
  });
});
