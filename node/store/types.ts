/**
 * What the node runtime needs from share storage, whatever keeps it: the sealed LevelDB store in
 * the daemon, the same ledger over memory in the simulations (both are `ShareStore`).
 */
import type { Custody } from '../../cluster/control.ts';
import type { PartyId, SessionId } from '../../protocol/core/ids.ts';
import type { Scheme } from '../../protocol/schemes/index.ts';
import type { Presignature, PresignatureId } from './presignatures.ts';

export interface StoredKey {
  readonly keyId: string;
  readonly scheme: Scheme;
  readonly threshold: number;
  readonly parties: readonly PartyId[];
  /** The full group point (SEC1 compressed on secp256k1), from which children derive. */
  readonly groupKey: Uint8Array;
  readonly chainCode: Uint8Array;
  /** Fixed at creation (see Custody); absent for keys stored before it existed (see `custodyOf`). */
  readonly custody?: Custody;
  /** The owner's label at creation: policy rules may select keys by it. */
  readonly label?: string;
}

/** What the runtime needs from the sealed share store. */
export interface ShareVault {
  /** Seals and durably stores a new key's share (at `epoch`, default 0); resolves once it is on disk. */
  saveShare(key: StoredKey, share: Uint8Array, epoch?: number): Promise<void>;
  /** Unseals the current epoch's share; the caller zeroises the bytes. Undefined when the node holds none. */
  loadShare(keyId: string): Promise<{ readonly key: StoredKey; readonly share: Uint8Array; readonly epoch: number; readonly burned: readonly PartyId[] } | undefined>;
  /**
   * Seals a successor epoch beside the current one. With `committee` (resharing) the key's
   * threshold and parties change on confirm; a node new to the key keeps it pending until then.
   */
  stageEpoch(keyId: string, epoch: number, share: Uint8Array, committee?: StoredKey): Promise<void>;
  /** Makes a staged epoch current and erases older ones; idempotent. */
  confirmEpoch(keyId: string, epoch: number): Promise<void>;
  hasKey(keyId: string): Promise<boolean>;
  /** Erases every epoch of a key's share and its metadata (crypto-shredding); idempotent. */
  destroyKey(keyId: string): Promise<void>;
  /**
   * Records, durably, that this node's pairwise OT setup with `peer` for the key's `epoch` must
   * never be used again: a DKLs23 consistency check caught the peer cheating, and every further
   * session over the same base OTs could leak bits of the extension secret Δ to it (the
   * selective-abort key-extraction attack). A later epoch (refresh, resharing) brings a fresh
   * setup and clears it; a burn for an epoch that is no longer current does nothing.
   * `loadShare` reports the burned peers with the share.
   */
  burnPair(keyId: string, peer: PartyId, epoch: number): Promise<void>;
  /**
   * Records durably that `session` was accepted for `keyId`; false when it was before (ever,
   * across restarts, with no eviction). Resolves only once the record is on disk.
   */
  claimSession(keyId: string, session: SessionId): Promise<boolean>;
  /**
   * Stores presignatures of one key made at its current epoch (node/store/presignatures.ts);
   * false, storing nothing, when the key has moved to another epoch meanwhile.
   */
  savePresignatures(made: readonly Presignature[]): Promise<boolean>;
  /** Removes and returns an unused presignature, durably gone before this resolves; undefined when there is none. */
  takePresignature(keyId: string, id: PresignatureId): Promise<Presignature | undefined>;
  /** Unused presignatures held (for one key, or all). */
  presignatureCount(keyId?: string): number;
}

