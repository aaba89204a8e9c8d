/**
 * A node's presignatures (its part of DKLs23 presignatures, its FROST nonces committed ahead),
 * in the same ledger as its shares. The rules (SECURITY.md, "Presignatures"):
 *
 * - **Single use, durably.** `take` removes the record from the in-memory index in the same
 *   synchronous step that finds it (two sessions naming one presignature: only one gets it), and
 *   resolves only once its deletion is on disk (`sync`): the partial signature is computed
 *   after that, so no crash can bring a used presignature back.
 * - **Never survive the process.** Records are sealed (AES-256-GCM) under a key that exists only
 *   in this process's memory; after a crash, a restart or a restore of the data directory from a
 *   snapshot they do not open, and `open` erases them. A presignature is cheap to make again;
 *   one used twice gives the key away.
 * - **Bound** to the key, its epoch, the signer set and the (derived, tweaked) signing key: the
 *   sealing's associated data holds key, id and epoch, and `take` hands back what the record was
 *   made for, for the caller to compare with the request. The share ledger erases a key's
 *   records in the same batch that changes its epoch, restores or destroys it.
 * - **Bounded**: at most `perKey` per key; the oldest go first (a coordinator that lost track
 *   of some cannot fill the disk).
 */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { AEAD_NONCE_BYTES, aeadOpen, aeadSeal } from '../../cluster/aead.ts';
import { array, bytes, decodeCbor, encodeCbor, party, struct, text, uint, type Bytes } from '../../protocol/core/codec.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import { zeroize } from '../../protocol/core/transcript.ts';
import type { BatchOp, KeyValueBackend } from './backend.ts';
import type { GroupCommit } from './group-commit.ts';

/** A presignature's id: its presigning session (hex) and its index in that batch. */
export type PresignatureId = string & { readonly __brand: 'PresignatureId' };
export const presignatureId = (session: Uint8Array, index: number): PresignatureId => `${Buffer.from(session).toString('hex')}.${index}` as PresignatureId;

export interface Presignature {
  readonly keyId: string;
  readonly epoch: number;
  readonly id: PresignatureId;
  readonly signers: readonly PartyId[];
  /** The full point of the key it signs under (the derived, tweaked child), as the adapter gives it. */
  readonly signingKey: Uint8Array;
  /** The scheme's secret part (adapter.presign): the caller zeroises it. */
  readonly secret: Uint8Array;
}

/**
 * Enough for every pool the coordinator may keep of one key (at most 128 per signing key, 8
 * signing keys: coordinator/config.ts), so a working coordinator never sees one pruned.
 */
export const DEFAULT_PRESIGNATURES_PER_KEY = 1024;

const PREFIX = 'presig!';
const recordKey = (keyId: string, id: PresignatureId) => `${PREFIX}${keyId}!${id}`;

const sealedCodec = struct<{ epoch: number; nonce: Bytes; ciphertext: Bytes }>({ epoch: uint(2 ** 32), nonce: bytes(AEAD_NONCE_BYTES), ciphertext: bytes({ min: 17, max: 64 * 1024 }) });
const bodyCodec = struct<{ signers: PartyId[]; signingKey: Bytes; secret: Bytes }>({
  signers: array(party, { min: 1, max: 1024 }),
  signingKey: bytes({ min: 32, max: 33 }),
  secret: bytes({ min: 1, max: 32 * 1024 }),
});
const adCodec = struct<{ domain: string; nodeId: string; keyId: string; id: string; epoch: number }>({
  domain: text(64),
  nodeId: text(64),
  keyId: text(128),
  id: text(128),
  epoch: uint(2 ** 32),
});

export class PresignatureStore {
  /**
   * This process's sealing key: never written anywhere, so nothing sealed under it outlives the
   * process. A key object, so OpenSSL does not import it again for every record (this sealing
   * cost a signing node more than its channel's).
   */
  private readonly sealingKey: KeyObject = createSecretKey(randomBytes(32));
  /** The records this process made and has not used, per key, oldest first. */
  private readonly index = new Map<string, Map<PresignatureId, number>>();
  private readonly db: KeyValueBackend;
  /** The ledger's group commit: a take's deletion shares its fsync with the session's claim. */
  private readonly synced: GroupCommit;
  private readonly nodeId: string;
  private readonly perKey: number;

  constructor(db: KeyValueBackend, synced: GroupCommit, nodeId: string, perKey = DEFAULT_PRESIGNATURES_PER_KEY) {
    this.db = db;
    this.synced = synced;
    this.nodeId = nodeId;
    this.perKey = perKey;
  }

  /** Erases every record an earlier process left (none of them opens any more). */
  async eraseStale(): Promise<number> {
    const stale: BatchOp[] = [];
    for await (const key of this.db.keys({ gte: PREFIX, lt: 'presig"' })) stale.push({ type: 'del', key });
    if (stale.length) await this.db.batch(stale, { sync: true });
    return stale.length;
  }

  /** How many unused presignatures this node holds for `keyId` (all keys without one). */
  count(keyId?: string): number {
    if (keyId !== undefined) return this.index.get(keyId)?.size ?? 0;
    let n = 0;
    for (const m of this.index.values()) n += m.size;
    return n;
  }

  /**
   * The batch operations that seal and store `made` (all of one key and epoch), pruning the
   * oldest beyond the per-key bound; the caller commits them (under the key's lock, after
   * checking the epoch is still current) and then calls `commit` with the same list.
   */
  saveOps(made: readonly Presignature[]): BatchOp[] {
    const ops: BatchOp[] = [];
    for (const p of made) {
      const nonce = randomBytes(AEAD_NONCE_BYTES);
      const body = encodeCbor(bodyCodec, { signers: [...p.signers], signingKey: p.signingKey as Bytes, secret: p.secret as Bytes });
      const ciphertext = aeadSeal(this.sealingKey, nonce, body, this.ad(p.keyId, p.id, p.epoch));
      zeroize(body);
      ops.push({ type: 'put', key: recordKey(p.keyId, p.id), value: encodeCbor(sealedCodec, { epoch: p.epoch, nonce: nonce as Bytes, ciphertext: ciphertext as Bytes }) });
    }
    const keyId = made[0]?.keyId;
    if (keyId === undefined) return ops;
    const held = [...(this.index.get(keyId)?.keys() ?? [])];
    const excess = held.length + made.length - this.perKey;
    for (const id of held.slice(0, Math.max(0, excess))) ops.push({ type: 'del', key: recordKey(keyId, id) });
    return ops;
  }

  /** Records in the index what `saveOps(made)` wrote, once its batch is on disk. */
  commit(made: readonly Presignature[]): void {
    const keyId = made[0]?.keyId;
    if (keyId === undefined) return;
    let held = this.index.get(keyId);
    if (!held) this.index.set(keyId, (held = new Map()));
    for (const p of made) held.set(p.id, p.epoch);
    for (const id of held.keys()) {
      if (held.size <= this.perKey) break;
      held.delete(id);
    }
  }

  /** The batch operations that erase every record of `keyId`; `forget` the key once they are on disk. */
  async eraseOps(keyId: string): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    for await (const key of this.db.keys({ gte: `${PREFIX}${keyId}!`, lt: `${PREFIX}${keyId}"` })) ops.push({ type: 'del', key });
    return ops;
  }

  /** Drops `keyId`'s presignatures from the index: none of them can be taken any more. */
  forget(keyId: string): void {
    this.index.delete(keyId);
  }

  /**
   * The presignature `id` of `keyId`, removed for good: undefined when this process holds no
   * such unused one (never made here, taken already, voided, or made before a restart). It is
   * out of the index before the first await and off the disk before this resolves.
   */
  async take(keyId: string, id: PresignatureId): Promise<Presignature | undefined> {
    const held = this.index.get(keyId);
    const epoch = held?.get(id);
    if (epoch === undefined) return undefined;
    held!.delete(id);
    const key = recordKey(keyId, id);
    const raw = this.db.getSync(key);
    await this.synced.write([{ type: 'del', key }]);
    if (!raw) return undefined;
    try {
      const sealed = decodeCbor(sealedCodec, raw);
      if (sealed.epoch !== epoch) return undefined;
      const plain = aeadOpen(this.sealingKey, sealed.nonce, sealed.ciphertext, this.ad(keyId, id, epoch));
      try {
        const body = decodeCbor(bodyCodec, plain);
        return { keyId, epoch, id, signers: body.signers, signingKey: Uint8Array.from(body.signingKey), secret: Uint8Array.from(body.secret) };
      } finally {
        zeroize(plain);
      }
    } catch {
      return undefined;
    }
  }

  private ad(keyId: string, id: PresignatureId, epoch: number): Uint8Array {
    return encodeCbor(adCodec, { domain: 'mpc-signer/presignature/v1', nodeId: this.nodeId, keyId, id, epoch });
  }
}
