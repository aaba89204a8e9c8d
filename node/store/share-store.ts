/**
 * The node's share ledger: one record per key share and epoch, sealed by `ShareSealer`, kept in
 * a `KeyValueBackend` (LevelDB in the data directory; memory in the simulations, over the same
 * rules). It owns the epoch state machine of every key:
 *
 *   save ──▶ current ──stage(e+1)──▶ current + staged ──confirm(e+1)──▶ current (older erased)
 *   stage(committee) on a node new to the key ──▶ pending (invisible) ──confirm──▶ current
 *
 * Writes are atomic batches with `sync: true`: a crash leaves either the old state or the new one.
 * A new epoch is written beside the old one, which stays until `confirmEpoch` erases it. Every
 * read-modify-write of a key's metadata runs under that key's lock, so concurrent writers (a
 * burn during a refresh's stage) never drop each other's change.
 *
 * The ledger is also the node's session ledger: every session id a node ever accepted for a key
 * is recorded, durably and for good, before the session starts (`claimSession`).
 */
import type { Scheme } from '../../protocol/schemes/index.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import type { ShareProtector } from '../../cluster/providers/types.ts';
import type { BatchOp, KeyValueBackend } from './backend.ts';
import { KeyedLock } from './keyed-lock.ts';
import { LevelBackend } from './level-backend.ts';
import { SealedShareError, ShareSealer } from './sealer.ts';
import { GroupCommit } from './group-commit.ts';
import { SessionClaims } from './session-claims.ts';
import { toMeta, toStoredKey, type KeyMeta, type KeyStatus } from './key-meta.ts';

export type { KeyStatus } from './key-meta.ts';
import { UnsealCache } from './unseal-cache.ts';
import { PolicyLedger } from './policy-ledger.ts';
import { PresignatureStore, type Presignature, type PresignatureId } from './presignatures.ts';
import type { ShareVault, StoredKey } from './types.ts';

export { bindingBytes, SealedShareError, SEALED_FORMAT_VERSION } from './sealer.ts';

export interface ShareStoreOptions {
  readonly dataDir: string;
  readonly nodeId: string;
  readonly protector: ShareProtector;
  /** Unsealed shares are kept this long (default 5 min; 0 disables the cache). */
  readonly cacheTtlMs?: number;
  readonly cacheSize?: number;
}

/** The ledger's parts: where records live, how shares are sealed, whose they are. */
export interface LedgerParts {
  readonly backend: KeyValueBackend;
  readonly sealer: ShareSealer;
  readonly nodeId: string;
  readonly cacheTtlMs?: number;
  readonly cacheSize?: number;
  /** The most unused presignatures kept per key (default 1024). */
  readonly presignaturesPerKey?: number;
}

/** A key's state in the ledger, for inspection (operators, tests): no secret in it. */
export interface KeyState {
  readonly key: StoredKey;
  readonly epoch: number;
  readonly status: KeyStatus;
  /** Epochs with a stored share, ascending (the current one and any staged successor). */
  readonly epochs: readonly number[];
  readonly burned: readonly PartyId[];
}

export interface StoreCounters {
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly unwrapCount: number;
  /** Unseals that failed: the provider refused or was unreachable, or the record did not authenticate. */
  readonly unsealFailures: number;
}


const pad = (epoch: number) => epoch.toString().padStart(10, '0');
const metaKey = (keyId: string) => `meta!${keyId}`;
const shareKey = (keyId: string, epoch: number) => `share!${keyId}!${pad(epoch)}`;
const sessionKey = (keyId: string, session: string) => `session!${keyId}!${session}`;

/** A parsed record, frozen all the way down: the remembered copy is handed to every reader. */
function frozen<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}

export class ShareStore implements ShareVault {
  private readonly db: KeyValueBackend;
  private readonly opts: LedgerParts;
  private readonly sealer: ShareSealer;
  private readonly cache: UnsealCache;
  /** Serialises every read-modify-write of one key's records. */
  private readonly lock = new KeyedLock();
  private readonly claims: SessionClaims;
  /** The node's policy state, in the same database (backups carry the shares, not this; SECURITY.md). */
  readonly policy: PolicyLedger;
  /** The node's unused presignatures (presignatures.ts): erased with every change of a key's epoch. */
  private readonly presignatures: PresignatureStore;
  private readonly cacheCounters = { cacheHits: 0, cacheMisses: 0 };
  /**
   * Each held key's metadata as this store last read or wrote it. Only this store writes it (one
   * process holds the database's lock), so a signature's path reads it without a database round
   * trip. A write drops the entry first and counts in `metaWrites`, so a read that raced it is
   * not remembered.
   */
  private readonly metas = new Map<string, KeyMeta>();
  private metaWrites = 0;

  constructor(parts: LedgerParts) {
    this.db = parts.backend;
    this.opts = parts;
    this.sealer = parts.sealer;
    const synced = new GroupCommit(parts.backend);
    this.claims = new SessionClaims(parts.backend, synced);
    this.policy = new PolicyLedger(parts.backend);
    this.presignatures = new PresignatureStore(parts.backend, synced, parts.nodeId, parts.presignaturesPerKey);
    this.cache = new UnsealCache(parts.cacheTtlMs ?? 5 * 60_000, parts.cacheSize ?? 1024);
  }

  /** The daemon's store: LevelDB in `dataDir`, shares sealed under `protector`. */
  static async open(opts: ShareStoreOptions): Promise<ShareStore> {
    const store = new ShareStore({ ...opts, backend: await LevelBackend.open(opts.dataDir), sealer: new ShareSealer(opts.protector) });
    await store.presignatures.eraseStale();
    return store;
  }

  /**
   * The same ledger as a new process would open it (simulations restart nodes this way): the
   * same records, none of this object's memory (unsealed shares, presignatures).
   */
  reopened(): ShareStore {
    return new ShareStore(this.opts);
  }

  get counters(): StoreCounters {
    return { ...this.cacheCounters, ...this.sealer.counters };
  }

  /** Sees every provider unwrap's duration in seconds (the node's metrics histogram). */
  set onUnwrap(observe: ((seconds: number) => void) | undefined) {
    this.sealer.onUnwrap = observe;
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.db.close();
  }

  async hasKey(keyId: string): Promise<boolean> {
    return (await this.meta(keyId)) !== undefined;
  }

  async listKeys(): Promise<StoredKey[]> {
    const out: StoredKey[] = [];
    for await (const [, value] of this.db.entries({ gte: 'meta!', lt: 'meta"' })) {
      const meta = JSON.parse(Buffer.from(value).toString('utf8')) as KeyMeta;
      if (meta.status !== 'pending') out.push(toStoredKey(meta));
    }
    return out;
  }

  /** Seals and stores the first epoch of a new key, with its metadata, in one synced batch. */
  async saveShare(key: StoredKey, share: Uint8Array, epoch = 0): Promise<void> {
    return this.lock.run(key.keyId, () => this.saveShareLocked(key, share, epoch));
  }

  private async saveShareLocked(key: StoredKey, share: Uint8Array, epoch: number): Promise<void> {
    if (await this.hasKey(key.keyId)) throw new SealedShareError('corrupt', `key ${key.keyId} already exists`);
    const record = await this.seal({ keyId: key.keyId, scheme: key.scheme, epoch }, share);
    await this.writeMeta(key.keyId, toMeta(key, epoch), (meta) => [{ type: 'put', key: shareKey(key.keyId, epoch), value: record }, meta]);
  }

  /**
   * Seals a successor epoch's share beside the current one (refresh, resharing). Signing keeps
   * using the current epoch until `confirmEpoch` switches over, so a crash in between leaves a
   * key that signs with one consistent epoch.
   */
  async stageEpoch(keyId: string, epoch: number, share: Uint8Array, committee?: StoredKey): Promise<void> {
    return this.lock.run(keyId, () => this.stageEpochLocked(keyId, epoch, share, committee));
  }

  private async stageEpochLocked(keyId: string, epoch: number, share: Uint8Array, committee?: StoredKey): Promise<void> {
    let meta = await this.meta(keyId);
    if (!meta || meta.status === 'pending') {
      // First share of this key on this node (resharing into a new committee): it stays pending,
      // invisible to signing and backups, until confirmed.
      if (!committee) throw new SealedShareError('not_found', `no key ${keyId}`);
      meta = { ...toMeta(committee, epoch), status: 'pending' };
      const record = await this.seal({ keyId, scheme: meta.scheme, epoch }, share);
      await this.writeMeta(keyId, meta, (m) => [{ type: 'put', key: shareKey(keyId, epoch), value: record }, m]);
      return;
    }
    // A staged but never confirmed epoch (an interrupted refresh) is simply replaced.
    if (epoch <= meta.epoch) throw new SealedShareError('corrupt', `epoch ${epoch} is not after the current epoch ${meta.epoch}`);
    const record = await this.seal({ keyId, scheme: meta.scheme, epoch }, share);
    const staged = committee ? { epoch, threshold: committee.threshold, parties: [...committee.parties] } : undefined;
    await this.writeMeta(keyId, { ...meta, staged }, (m) => [{ type: 'put', key: shareKey(keyId, epoch), value: record }, m]);
  }

  /** Makes a staged epoch current and erases every older epoch, in one synced batch. */
  async confirmEpoch(keyId: string, epoch: number): Promise<void> {
    return this.lock.run(keyId, () => this.confirmEpochLocked(keyId, epoch));
  }

  private async confirmEpochLocked(keyId: string, epoch: number): Promise<void> {
    const meta = await this.meta(keyId);
    if (!meta) throw new SealedShareError('not_found', `no key ${keyId}`);
    if (meta.status === 'pending' && meta.epoch === epoch) {
      await this.writeMeta(keyId, { ...meta, status: 'active' }, (m) => [m]);
      return;
    }
    if (meta.epoch === epoch) return; // already confirmed (idempotent after a crash)
    if (!(await this.db.get(shareKey(keyId, epoch)))) throw new SealedShareError('not_found', `epoch ${epoch} of ${keyId} was never staged`);
    // Presignatures of the old epoch go with it (none may be taken from here on).
    this.presignatures.forget(keyId);
    const voided = await this.presignatures.eraseOps(keyId);
    const older: string[] = [];
    for await (const k of this.db.keys({ gte: `share!${keyId}!`, lt: shareKey(keyId, epoch) })) older.push(k);
    const confirmed: KeyMeta =
      meta.staged?.epoch === epoch
        ? { ...meta, epoch, threshold: meta.staged.threshold, parties: meta.staged.parties, staged: undefined, burned: undefined }
        : { ...meta, epoch, staged: undefined, burned: undefined };
    await this.writeMeta(keyId, confirmed, (m) => [...older.map((k) => ({ type: 'del' as const, key: k })), ...voided, m]);
    this.cache.forgetKey(keyId);
  }

  async burnPair(keyId: string, peer: PartyId, epoch: number): Promise<void> {
    return this.lock.run(keyId, async () => {
      const meta = await this.meta(keyId);
      // A later epoch brought fresh pairwise setups: the cheat was against one that is gone.
      if (!meta || meta.epoch !== epoch || meta.burned?.includes(peer)) return;
      await this.writeMeta(keyId, { ...meta, burned: [...(meta.burned ?? []), peer].sort((a, b) => a - b) }, (m) => [m]);
    });
  }

  /**
   * Records `session` as used for `keyId`, durably, and answers whether it was new. A false
   * answer means the id was accepted before (even before a restart) and must be refused.
   */
  claimSession(keyId: string, session: string): Promise<boolean> {
    return this.claims.claim(sessionKey(keyId, session));
  }


  /**
   * Stores presignatures of one key, all made at `epoch`, durably; false (nothing stored) when
   * the key is no longer at that epoch (a refresh confirmed while they were being made).
   */
  async savePresignatures(made: readonly Presignature[]): Promise<boolean> {
    const first = made[0];
    if (!first) return true;
    return this.lock.run(first.keyId, async () => {
      const meta = await this.meta(first.keyId);
      if (!meta || meta.status === 'pending' || made.some((p) => p.keyId !== first.keyId || p.epoch !== meta.epoch)) return false;
      await this.db.batch(this.presignatures.saveOps(made), { sync: true });
      this.presignatures.commit(made);
      return true;
    });
  }

  /** The unused presignature `id` of `keyId`, durably erased before this resolves (presignatures.ts). */
  takePresignature(keyId: string, id: PresignatureId): Promise<Presignature | undefined> {
    return this.presignatures.take(keyId, id);
  }

  presignatureCount(keyId?: string): number {
    return this.presignatures.count(keyId);
  }

  async burnedPairs(keyId: string): Promise<PartyId[]> {
    return ((await this.meta(keyId))?.burned ?? []) as PartyId[];
  }

  /** Erases every epoch of the key and its metadata in one synced batch (crypto-shredding). */
  async destroyKey(keyId: string): Promise<void> {
    return this.lock.run(keyId, () => this.destroyKeyLocked(keyId));
  }

  private async destroyKeyLocked(keyId: string): Promise<void> {
    const keys: string[] = [];
    for await (const k of this.db.keys({ gte: `share!${keyId}!`, lt: `share!${keyId}"` })) keys.push(k);
    this.presignatures.forget(keyId);
    const voided = await this.presignatures.eraseOps(keyId);
    await this.writeMeta(keyId, undefined, (m) => [...keys.map((key) => ({ type: 'del' as const, key })), m, ...voided]);
    this.cache.forgetKey(keyId);
  }

  /** Epochs with a stored share, ascending (the current one and any staged successor). */
  async epochs(keyId: string): Promise<number[]> {
    const out: number[] = [];
    for await (const k of this.db.keys({ gte: `share!${keyId}!`, lt: `share!${keyId}"` })) out.push(Number(k.split('!')[2]));
    return out;
  }

  /** A key's state, pending keys included; undefined when the node holds nothing of it. */
  async inspect(keyId: string): Promise<KeyState | undefined> {
    const meta = await this.meta(keyId);
    if (!meta) return undefined;
    return { key: toStoredKey(meta), epoch: meta.epoch, status: meta.status, epochs: await this.epochs(keyId), burned: (meta.burned ?? []) as PartyId[] };
  }

  /** Every key id held, pending keys included. */
  async keyIds(): Promise<string[]> {
    const out: string[] = [];
    for await (const k of this.db.keys({ gte: 'meta!', lt: 'meta"' })) out.push(k.slice('meta!'.length));
    return out;
  }

  /**
   * Unseals the share of one stored epoch (current, staged or pending), bypassing the cache:
   * for backups and inspection, not for signing. The caller zeroises the bytes.
   */
  async loadEpochShare(keyId: string, epoch: number): Promise<Uint8Array | undefined> {
    const meta = await this.meta(keyId);
    const raw = meta && (await this.db.get(shareKey(keyId, epoch)));
    return raw ? this.sealer.unseal({ nodeId: this.opts.nodeId, keyId, scheme: meta.scheme, epoch }, raw) : undefined;
  }

  /** Unseals the share of the key's current epoch. The caller zeroises the returned bytes. */
  async loadShare(keyId: string): Promise<{ key: StoredKey; share: Uint8Array; epoch: number; burned: PartyId[] } | undefined> {
    const meta = await this.meta(keyId);
    if (!meta || meta.status === 'pending') return undefined;
    const cached = this.cache.get(keyId, meta.epoch);
    if (cached) {
      this.cacheCounters.cacheHits++;
      return { key: toStoredKey(meta), share: cached, epoch: meta.epoch, burned: (meta.burned ?? []) as PartyId[] };
    }
    this.cacheCounters.cacheMisses++;
    const raw = await this.db.get(shareKey(keyId, meta.epoch));
    if (!raw) throw new SealedShareError('not_found', `key ${keyId} has metadata but no share for epoch ${meta.epoch}`);
    const share = await this.sealer.unseal({ nodeId: this.opts.nodeId, keyId, scheme: meta.scheme, epoch: meta.epoch }, raw);
    this.cache.put(keyId, meta.epoch, share);
    return { key: toStoredKey(meta), share, epoch: meta.epoch, burned: (meta.burned ?? []) as PartyId[] };
  }

  /**
   * Re-wraps every data key under a new key-encryption key (provider key rotation); share
   * ciphertexts are untouched. Each record is rewritten atomically, so an interrupted re-wrap
   * can be run again: records already moved open under the new protector.
   */
  async rewrap(next: ShareProtector): Promise<number> {
    let moved = 0;
    for await (const [k, value] of this.db.entries({ gte: 'share!', lt: 'share"' })) {
      const [, keyId, epochText] = k.split('!') as [string, string, string];
      const meta = await this.meta(keyId);
      if (!meta) continue;
      const updated = await this.sealer.rewrap({ nodeId: this.opts.nodeId, keyId, scheme: meta.scheme, epoch: Number(epochText) }, value, next);
      if (!updated) continue;
      await this.db.put(k, updated, { sync: true });
      moved++;
    }
    this.sealer.switchTo(next);
    return moved;
  }

  private async meta(keyId: string): Promise<KeyMeta | undefined> {
    const known = this.metas.get(keyId);
    if (known) return known;
    const writes = this.metaWrites;
    const raw = await this.db.get(metaKey(keyId));
    if (!raw) return undefined;
    const meta = frozen(JSON.parse(Buffer.from(raw).toString('utf8')) as KeyMeta);
    if (writes === this.metaWrites) this.metas.set(keyId, meta);
    return meta;
  }

  /**
   * Commits `ops` (which place the operation on the key's metadata, given to them: `meta` put,
   * or deleted when undefined) in one synced batch, and remembers what is now on disk. The
   * caller holds the key's lock, so writes to one key's metadata do not interleave.
   */
  private async writeMeta(keyId: string, meta: KeyMeta | undefined, ops: (metaOp: BatchOp) => BatchOp[]): Promise<void> {
    const json = meta && JSON.stringify(meta);
    this.metas.delete(keyId);
    this.metaWrites++;
    try {
      await this.db.batch(ops(json ? { type: 'put', key: metaKey(keyId), value: Buffer.from(json) } : { type: 'del', key: metaKey(keyId) }), { sync: true });
    } finally {
      this.metaWrites++;
    }
    if (json) this.metas.set(keyId, frozen(JSON.parse(json) as KeyMeta));
  }

  private seal(binding: { keyId: string; scheme: Scheme; epoch: number }, share: Uint8Array): Promise<Uint8Array> {
    return this.sealer.seal({ nodeId: this.opts.nodeId, ...binding }, share);
  }

  /** Forgets (and zeroises) every unsealed share kept for reuse. */
  clearCache(): void {
    this.cache.clear();
  }
}
