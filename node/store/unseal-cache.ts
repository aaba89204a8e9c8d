/**
 * Unsealed shares kept for a short while so that a burst of signatures pays for one provider
 * (HSM/KMS) unwrap. Entries are copies, handed out as copies, and zeroised when they expire,
 * are evicted, or their key changes epoch or is destroyed.
 */
import { zeroize } from '../../protocol/core/transcript.ts';

export class UnsealCache {
  private readonly entries = new Map<string, { readonly share: Uint8Array; readonly expires: number }>();
  private readonly ttlMs: number;
  private readonly capacity: number;

  /** `ttlMs` 0 disables the cache. */
  constructor(ttlMs: number, capacity: number) {
    this.ttlMs = ttlMs;
    this.capacity = capacity;
  }

  /** A copy of the cached share of `keyId` at `epoch`, if fresh. */
  get(keyId: string, epoch: number): Uint8Array | undefined {
    const id = `${keyId}/${epoch}`;
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.expires > Date.now()) return Uint8Array.from(e.share);
    this.evict(id);
    return undefined;
  }

  put(keyId: string, epoch: number, share: Uint8Array): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.capacity) this.evict(this.entries.keys().next().value!);
    this.entries.set(`${keyId}/${epoch}`, { share: Uint8Array.from(share), expires: Date.now() + this.ttlMs });
  }

  /** Drops every epoch of `keyId`. */
  forgetKey(keyId: string): void {
    for (const id of [...this.entries.keys()]) if (id.startsWith(`${keyId}/`)) this.evict(id);
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.evict(id);
  }

  private evict(id: string): void {
    const e = this.entries.get(id);
    if (e) zeroize(e.share);
    this.entries.delete(id);
  }
}
