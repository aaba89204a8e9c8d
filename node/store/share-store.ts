/**
 * The node's sealed share store: LevelDB in the data directory, one record per key share and
 * epoch, each sealed by envelope encryption — a fresh 32-byte data key encrypts the share with
 * AES-256-GCM, and the node's provider wraps the data key under its key-encryption key. Both
 * layers authenticate the binding (node, key, scheme, epoch), so a record copied to another
 * node, key or epoch does not open.
 *
 * Writes are LevelDB batches with `sync: true`: a crash leaves either the old state or the
 * new one. A new epoch is written beside the old one, which stays until `confirmEpoch` erases it.
 * Every read-modify-write of a key's metadata runs under that key's lock, so concurrent writers
 * (a burn during a refresh's stage) never drop each other's change.
 *
 * The store is also the node's session ledger: every session id a node ever accepted for a key
 * is recorded, durably and for good, before the session starts (`claimSession`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import type { Scheme } from '../../protocol/schemes/index.ts';
import { bytes, decodeCbor, encodeCbor, struct, text, uint, type Bytes } from '../../protocol/core/codec.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import { zeroize } from '../../protocol/core/transcript.ts';
import type { ShareVault, StoredKey } from '../runtime.ts';
import { ProviderError, type ProviderName, type ShareBinding, type ShareProtector } from '../../cluster/providers/types.ts';

export const SEALED_FORMAT_VERSION = 1;

interface SealedRecord {
  version: number;
  provider: string;
  kekRef: string;
  wrappedKey: Bytes;
  nonce: Bytes;
  ciphertext: Bytes;
}

const sealedCodec = struct<SealedRecord>({
  version: uint(255),
  provider: text(32),
  kekRef: text(512),
  wrappedKey: bytes({ min: 16, max: 4096 }),
  nonce: bytes(12),
  ciphertext: bytes({ min: 17, max: 16 * 1024 * 1024 }),
});

const bindingCodec = struct<{ domain: string; nodeId: string; keyId: string; scheme: string; epoch: number }>({
  domain: text(64),
  nodeId: text(64),
  keyId: text(128),
  scheme: text(32),
  epoch: uint(2 ** 32),
});

/** The canonical bytes every layer of a sealed share authenticates. */
export function bindingBytes(b: ShareBinding): Uint8Array {
  return encodeCbor(bindingCodec, { domain: 'mpc-signer/sealed-share/v1', ...b });
}

/** `pending`: the node received its first share of the key by resharing, not yet confirmed. */
export type KeyStatus = 'active' | 'disabled' | 'pending';

interface KeyMeta {
  keyId: string;
  scheme: Scheme;
  threshold: number;
  parties: number[];
  groupKey: string;
  chainCode: string;
  /** The epoch signing uses. */
  epoch: number;
  status: KeyStatus;
  /** A staged epoch that changes the committee (resharing): applied by `confirmEpoch`. */
  staged?: { epoch: number; threshold: number; parties: number[] };
  /** Peers whose pairwise OT setup with this node must not be used again (see ShareVault.burnPair). */
  burned?: number[];
  /** Fixed at key generation (cluster/control.ts Custody); absent on keys stored before it existed. */
  custody?: { minThreshold: number; minParties: number; members: number[] };
}

export class SealedShareError extends Error {
  override readonly name = 'SealedShareError';
  readonly code: 'unseal_failed' | 'not_found' | 'corrupt';
  constructor(code: SealedShareError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface ShareStoreOptions {
  readonly dataDir: string;
  readonly nodeId: string;
  readonly protector: ShareProtector;
  /** Unsealed shares are kept this long (default 5 min; 0 disables the cache). */
  readonly cacheTtlMs?: number;
  readonly cacheSize?: number;
}

export interface StoreCounters {
  cacheHits: number;
  cacheMisses: number;
  unwrapCount: number;
  /** Unseals that failed: the provider refused or was unreachable, or the record did not authenticate. */
  unsealFailures: number;
}

interface CacheEntry {
  readonly share: Uint8Array;
  readonly expires: number;
}

const pad = (epoch: number) => epoch.toString().padStart(10, '0');
const metaKey = (keyId: string) => `meta!${keyId}`;
const shareKey = (keyId: string, epoch: number) => `share!${keyId}!${pad(epoch)}`;
const sessionKey = (keyId: string, session: string) => `session!${keyId}!${session}`;
const EMPTY = new Uint8Array(0);

type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

export class ShareStore implements ShareVault {
  private readonly db: Level<string, Uint8Array>;
  private readonly opts: ShareStoreOptions;
  private protector: ShareProtector;
  private readonly cache = new Map<string, CacheEntry>();
  /** The tail of each key's chain of metadata writers (see `locked`). */
  private readonly keyLocks = new Map<string, Promise<unknown>>();
  /** Session claims being written: a second claim of the same id while the first is in flight is refused. */
  private readonly claiming = new Set<string>();
  /** Session claims waiting for the next group commit, and whether one is running. */
  private pendingClaims: { op: BatchOp; done: (e?: unknown) => void }[] = [];
  private committing = false;
  readonly counters: StoreCounters = { cacheHits: 0, cacheMisses: 0, unwrapCount: 0, unsealFailures: 0 };
  /** Sees every provider unwrap's duration in seconds (the node's metrics histogram). */
  onUnwrap: ((seconds: number) => void) | undefined;

  private constructor(db: Level<string, Uint8Array>, opts: ShareStoreOptions) {
    this.db = db;
    this.opts = opts;
    this.protector = opts.protector;
  }

  static async open(opts: ShareStoreOptions): Promise<ShareStore> {
    await mkdir(opts.dataDir, { recursive: true });
    const db = new Level<string, Uint8Array>(`${opts.dataDir}/store`, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    return new ShareStore(db, opts);
  }

  async close(): Promise<void> {
    this.clearCache();
    await this.db.close();
  }

  async hasKey(keyId: string): Promise<boolean> {
    return (await this.meta(keyId)) !== undefined;
  }

  async listKeys(): Promise<StoredKey[]> {
    const out: StoredKey[] = [];
    for await (const [, value] of this.db.iterator({ gte: 'meta!', lt: 'meta"' })) {
      const meta = JSON.parse(Buffer.from(value).toString('utf8')) as KeyMeta;
      if (meta.status !== 'pending') out.push(toStoredKey(meta));
    }
    return out;
  }

  /** Seals and stores the first epoch of a new key, with its metadata, in one synced batch. */
  async saveShare(key: StoredKey, share: Uint8Array, epoch = 0): Promise<void> {
    return this.locked(key.keyId, () => this.saveShareLocked(key, share, epoch));
  }

  private async saveShareLocked(key: StoredKey, share: Uint8Array, epoch: number): Promise<void> {
    if (await this.hasKey(key.keyId)) throw new SealedShareError('corrupt', `key ${key.keyId} already exists`);
    const meta = toMeta(key, epoch);
    const record = await this.seal({ nodeId: this.opts.nodeId, keyId: key.keyId, scheme: key.scheme, epoch }, share);
    await this.db.batch(
      [
        { type: 'put', key: shareKey(key.keyId, epoch), value: record },
        { type: 'put', key: metaKey(key.keyId), value: Buffer.from(JSON.stringify(meta)) },
      ],
      { sync: true },
    );
  }

  /**
   * Seals a successor epoch's share beside the current one (refresh, resharing). Signing keeps
   * using the current epoch until `confirmEpoch` switches over, so a crash in between leaves a
   * key that signs with one consistent epoch.
   */
  async stageEpoch(keyId: string, epoch: number, share: Uint8Array, committee?: StoredKey): Promise<void> {
    return this.locked(keyId, () => this.stageEpochLocked(keyId, epoch, share, committee));
  }

  private async stageEpochLocked(keyId: string, epoch: number, share: Uint8Array, committee?: StoredKey): Promise<void> {
    let meta = await this.meta(keyId);
    if (!meta || meta.status === 'pending') {
      // First share of this key on this node (resharing into a new committee): it stays pending,
      // invisible to signing and backups, until confirmed.
      if (!committee) throw new SealedShareError('not_found', `no key ${keyId}`);
      meta = { ...toMeta(committee, epoch), status: 'pending' };
      const record = await this.seal({ nodeId: this.opts.nodeId, keyId, scheme: meta.scheme, epoch }, share);
      await this.db.batch([{ type: 'put', key: shareKey(keyId, epoch), value: record }, { type: 'put', key: metaKey(keyId), value: Buffer.from(JSON.stringify(meta)) }], { sync: true });
      return;
    }
    // A staged but never confirmed epoch (an interrupted refresh) is simply replaced.
    if (epoch <= meta.epoch) throw new SealedShareError('corrupt', `epoch ${epoch} is not after the current epoch ${meta.epoch}`);
    const record = await this.seal({ nodeId: this.opts.nodeId, keyId, scheme: meta.scheme, epoch }, share);
    const staged = committee ? { epoch, threshold: committee.threshold, parties: [...committee.parties] } : undefined;
    await this.db.batch(
      [{ type: 'put', key: shareKey(keyId, epoch), value: record }, { type: 'put', key: metaKey(keyId), value: Buffer.from(JSON.stringify({ ...meta, staged })) }],
      { sync: true },
    );
  }

  /** Makes a staged epoch current and erases every older epoch, in one synced batch. */
  async confirmEpoch(keyId: string, epoch: number): Promise<void> {
    return this.locked(keyId, () => this.confirmEpochLocked(keyId, epoch));
  }

  private async confirmEpochLocked(keyId: string, epoch: number): Promise<void> {
    const meta = await this.meta(keyId);
    if (!meta) throw new SealedShareError('not_found', `no key ${keyId}`);
    if (meta.status === 'pending' && meta.epoch === epoch) {
      await this.db.put(metaKey(keyId), Buffer.from(JSON.stringify({ ...meta, status: 'active' })), { sync: true });
      return;
    }
    if (meta.epoch === epoch) return; // already confirmed (idempotent after a crash)
    if (!(await this.db.get(shareKey(keyId, epoch)))) throw new SealedShareError('not_found', `epoch ${epoch} of ${keyId} was never staged`);
    const older: string[] = [];
    for await (const k of this.db.keys({ gte: `share!${keyId}!`, lt: shareKey(keyId, epoch) })) older.push(k);
    await this.db.batch(
      [
        ...older.map((k) => ({ type: 'del' as const, key: k })),
        {
          type: 'put' as const,
          key: metaKey(keyId),
          value: Buffer.from(
            JSON.stringify(
              meta.staged?.epoch === epoch
                ? { ...meta, epoch, threshold: meta.staged.threshold, parties: meta.staged.parties, staged: undefined, burned: undefined }
                : { ...meta, epoch, staged: undefined, burned: undefined },
            ),
          ),
        },
      ],
      { sync: true },
    );
    for (const id of [...this.cache.keys()]) if (id.startsWith(`${keyId}/`)) this.evict(id);
  }

  async burnPair(keyId: string, peer: PartyId, epoch: number): Promise<void> {
    return this.locked(keyId, async () => {
      const meta = await this.meta(keyId);
      // A later epoch brought fresh pairwise setups: the cheat was against one that is gone.
      if (!meta || meta.epoch !== epoch || meta.burned?.includes(peer)) return;
      await this.db.put(metaKey(keyId), Buffer.from(JSON.stringify({ ...meta, burned: [...(meta.burned ?? []), peer].sort((a, b) => a - b) })), { sync: true });
    });
  }

  /**
   * Records `session` as used for `keyId`, durably, and answers whether it was new. A false
   * answer means the id was accepted before (even before a restart) and must be refused.
   * Concurrent claims are written together in one synced batch (group commit).
   */
  async claimSession(keyId: string, session: string): Promise<boolean> {
    const key = sessionKey(keyId, session);
    if (this.claiming.has(key)) return false;
    this.claiming.add(key);
    try {
      if ((await this.db.get(key)) !== undefined) return false;
      await new Promise<void>((resolve, reject) => {
        this.pendingClaims.push({ op: { type: 'put', key, value: EMPTY }, done: (e) => (e ? reject(e) : resolve()) });
        if (!this.committing) void this.commitClaims();
      });
      return true;
    } finally {
      this.claiming.delete(key);
    }
  }

  private async commitClaims(): Promise<void> {
    this.committing = true;
    try {
      while (this.pendingClaims.length) {
        const batch = this.pendingClaims;
        this.pendingClaims = [];
        try {
          await this.db.batch(batch.map((c) => c.op), { sync: true });
          for (const c of batch) c.done();
        } catch (e) {
          for (const c of batch) c.done(e);
        }
      }
    } finally {
      this.committing = false;
    }
  }

  /** Runs `f` after every earlier metadata writer of `keyId` has finished. */
  private locked<T>(keyId: string, f: () => Promise<T>): Promise<T> {
    const previous = this.keyLocks.get(keyId) ?? Promise.resolve();
    const run = previous.then(f, f);
    const tail = run.catch(() => undefined);
    this.keyLocks.set(keyId, tail);
    void tail.then(() => {
      if (this.keyLocks.get(keyId) === tail) this.keyLocks.delete(keyId);
    });
    return run;
  }

  async burnedPairs(keyId: string): Promise<PartyId[]> {
    return ((await this.meta(keyId))?.burned ?? []) as PartyId[];
  }

  /** Erases every epoch of the key and its metadata in one synced batch (crypto-shredding). */
  async destroyKey(keyId: string): Promise<void> {
    return this.locked(keyId, () => this.destroyKeyLocked(keyId));
  }

  private async destroyKeyLocked(keyId: string): Promise<void> {
    const keys: string[] = [];
    for await (const k of this.db.keys({ gte: `share!${keyId}!`, lt: `share!${keyId}"` })) keys.push(k);
    await this.db.batch([...keys, metaKey(keyId)].map((key) => ({ type: 'del' as const, key })), { sync: true });
    for (const id of [...this.cache.keys()]) if (id.startsWith(`${keyId}/`)) this.evict(id);
  }

  /** Epochs with a stored share, ascending (the current one and any staged successor). */
  async epochs(keyId: string): Promise<number[]> {
    const out: number[] = [];
    for await (const k of this.db.keys({ gte: `share!${keyId}!`, lt: `share!${keyId}"` })) out.push(Number(k.split('!')[2]));
    return out;
  }

  /** Unseals the share of the key's current epoch. The caller zeroises the returned bytes. */
  async loadShare(keyId: string): Promise<{ key: StoredKey; share: Uint8Array; epoch: number; burned: PartyId[] } | undefined> {
    const meta = await this.meta(keyId);
    if (!meta || meta.status === 'pending') return undefined;
    const cacheId = `${keyId}/${meta.epoch}`;
    const cached = this.cache.get(cacheId);
    if (cached && cached.expires > Date.now()) {
      this.counters.cacheHits++;
      return { key: toStoredKey(meta), share: Uint8Array.from(cached.share), epoch: meta.epoch, burned: (meta.burned ?? []) as PartyId[] };
    }
    if (cached) this.evict(cacheId);
    this.counters.cacheMisses++;
    const raw = await this.db.get(shareKey(keyId, meta.epoch));
    if (!raw) throw new SealedShareError('not_found', `key ${keyId} has metadata but no share for epoch ${meta.epoch}`);
    const share = await this.unseal({ nodeId: this.opts.nodeId, keyId, scheme: meta.scheme, epoch: meta.epoch }, raw);
    this.remember(cacheId, share);
    return { key: toStoredKey(meta), share, epoch: meta.epoch, burned: (meta.burned ?? []) as PartyId[] };
  }

  /**
   * Re-wraps every data key under a new key-encryption key (provider key rotation); share
   * ciphertexts are untouched. Each record is rewritten atomically, so an interrupted re-wrap
   * can be run again: records already moved open under the new protector.
   */
  async rewrap(next: ShareProtector): Promise<number> {
    let moved = 0;
    for await (const [k, value] of this.db.iterator({ gte: 'share!', lt: 'share"' })) {
      const record = decodeCbor(sealedCodec, value);
      const [, keyId, epochText] = k.split('!') as [string, string, string];
      const meta = await this.meta(keyId);
      if (!meta) continue;
      const aad = bindingBytes({ nodeId: this.opts.nodeId, keyId, scheme: meta.scheme, epoch: Number(epochText) });
      if (record.provider === next.name && record.kekRef === next.currentKekRef()) continue;
      const dataKey = await this.protector.unwrapKey({ provider: record.provider as ProviderName, kekRef: record.kekRef, wrapped: record.wrappedKey }, aad);
      try {
        const wrapped = await next.wrapKey(dataKey, aad);
        const updated = encodeCbor(sealedCodec, { ...record, provider: wrapped.provider, kekRef: wrapped.kekRef, wrappedKey: wrapped.wrapped as Bytes });
        await this.db.put(k, updated, { sync: true });
        moved++;
      } finally {
        zeroize(dataKey);
      }
    }
    this.protector = next;
    return moved;
  }

  private async meta(keyId: string): Promise<KeyMeta | undefined> {
    const raw = await this.db.get(metaKey(keyId));
    return raw ? (JSON.parse(Buffer.from(raw).toString('utf8')) as KeyMeta) : undefined;
  }

  private async seal(binding: ShareBinding, share: Uint8Array): Promise<Uint8Array> {
    const aad = bindingBytes(binding);
    const dataKey = new Uint8Array(randomBytes(32));
    try {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', dataKey, nonce);
      cipher.setAAD(aad);
      const ciphertext = Buffer.concat([cipher.update(share), cipher.final(), cipher.getAuthTag()]);
      const wrapped = await this.protector.wrapKey(dataKey, aad);
      return encodeCbor(sealedCodec, {
        version: SEALED_FORMAT_VERSION,
        provider: wrapped.provider,
        kekRef: wrapped.kekRef,
        wrappedKey: wrapped.wrapped as Bytes,
        nonce: nonce as Bytes,
        ciphertext: ciphertext as Bytes,
      });
    } finally {
      zeroize(dataKey);
    }
  }

  private async unseal(binding: ShareBinding, raw: Uint8Array): Promise<Uint8Array> {
    let record: SealedRecord;
    try {
      record = decodeCbor(sealedCodec, raw);
    } catch (e) {
      throw new SealedShareError('corrupt', `sealed record of ${binding.keyId}/${binding.epoch} is malformed: ${(e as Error).message}`);
    }
    if (record.version !== SEALED_FORMAT_VERSION) throw new SealedShareError('corrupt', `unknown sealed record version ${record.version}`);
    const aad = bindingBytes(binding);
    const started = performance.now();
    let dataKey: Uint8Array;
    try {
      dataKey = await this.protector.unwrapKey({ provider: record.provider as ProviderName, kekRef: record.kekRef, wrapped: record.wrappedKey }, aad);
    } catch (e) {
      this.counters.unsealFailures++;
      throw new SealedShareError('unseal_failed', `share ${binding.keyId}/${binding.epoch} does not open: ${e instanceof ProviderError ? e.message : 'unwrap failed'}`);
    } finally {
      this.counters.unwrapCount++;
      this.onUnwrap?.((performance.now() - started) / 1000);
    }
    try {
      const ct = record.ciphertext;
      const decipher = createDecipheriv('aes-256-gcm', dataKey, record.nonce);
      decipher.setAAD(aad);
      decipher.setAuthTag(ct.subarray(ct.length - 16));
      return new Uint8Array(Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]));
    } catch {
      this.counters.unsealFailures++;
      throw new SealedShareError('unseal_failed', `share ${binding.keyId}/${binding.epoch} does not open under its binding`);
    } finally {
      zeroize(dataKey);
    }
  }

  private remember(id: string, share: Uint8Array): void {
    const ttl = this.opts.cacheTtlMs ?? 5 * 60_000;
    if (ttl <= 0) return;
    if (this.cache.size >= (this.opts.cacheSize ?? 1024)) this.evict(this.cache.keys().next().value!);
    this.cache.set(id, { share: Uint8Array.from(share), expires: Date.now() + ttl });
  }

  private evict(id: string): void {
    const e = this.cache.get(id);
    if (e) zeroize(e.share);
    this.cache.delete(id);
  }

  clearCache(): void {
    for (const id of [...this.cache.keys()]) this.evict(id);
  }
}

function toMeta(key: StoredKey, epoch: number): KeyMeta {
  return {
    keyId: key.keyId,
    scheme: key.scheme,
    threshold: key.threshold,
    parties: [...key.parties],
    groupKey: Buffer.from(key.groupKey).toString('hex'),
    chainCode: Buffer.from(key.chainCode).toString('hex'),
    epoch,
    status: 'active',
    ...(key.custody ? { custody: { minThreshold: key.custody.minThreshold, minParties: key.custody.minParties, members: [...key.custody.members] } } : {}),
  };
}

function toStoredKey(m: KeyMeta): StoredKey {
  return {
    keyId: m.keyId,
    scheme: m.scheme,
    threshold: m.threshold,
    parties: m.parties as PartyId[],
    groupKey: Buffer.from(m.groupKey, 'hex'),
    chainCode: Buffer.from(m.chainCode, 'hex'),
    ...(m.custody ? { custody: { ...m.custody, members: m.custody.members as PartyId[] } } : {}),
  };
}
