/**
 * Domain-separated, length-prefixed hashing. Every hash a protocol computes over
 * several inputs goes through a Transcript so that no two different input sequences
 * can produce the same hash input (each item is prefixed by its 8-byte length, and
 * the whole is prefixed by a domain label).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

export class Transcript {
  private readonly h = sha256.create();

  constructor(domain: string) {
    this.bytes(utf8ToBytes(domain));
  }

  bytes(b: Uint8Array): this {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(b.length));
    this.h.update(len);
    this.h.update(b);
    return this;
  }

  text(s: string): this {
    return this.bytes(utf8ToBytes(s));
  }

  uint(n: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    return this.bytes(b);
  }

  /** 32-byte digest. The transcript must not be used afterwards. */
  digest(): Uint8Array {
    return this.h.digest();
  }
}

/** One-shot helper: `hashTranscript('domain', a, b, ...)`. */
export function hashTranscript(domain: string, ...items: (Uint8Array | string | number)[]): Uint8Array {
  const t = new Transcript(domain);
  for (const item of items) {
    if (typeof item === 'string') t.text(item);
    else if (typeof item === 'number') t.uint(item);
    else t.bytes(item);
  }
  return t.digest();
}

/** Constant-time equality for secrets and digests of equal, public length. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Best-effort zeroisation of secret buffers. */
export function zeroize(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}
