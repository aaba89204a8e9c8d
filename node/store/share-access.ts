/**
 * The one way the node's operations reach a key share: load it at the epoch the signed request
 * names (confirming an epoch whose confirm was lost), check the request against it, decode it,
 * and on the way back encode and store a new share; the encoded bytes are zeroised and the
 * decoded share is wiped on every path.
 */
import type { PartyId } from '../../protocol/core/ids.ts';
import { zeroize } from '../../protocol/core/transcript.ts';
import type { AnySchemeAdapter } from '../../protocol/schemes/index.ts';
import type { ShareVault, StoredKey } from './types.ts';

export interface LoadedShare {
  readonly key: StoredKey;
  /** Encoded share: zeroise it (`decodeShare` does). */
  readonly share: Uint8Array;
  readonly epoch: number;
  readonly burned: readonly PartyId[];
}

/** Why an operation will not run: reported to the coordinator, with the peers it names. */
export interface Refusal {
  readonly reason: string;
  readonly culprits?: readonly PartyId[];
  /** What the coordinator may tell its caller (default `refused`): `policy_denied`, `policy_mismatch`. */
  readonly code?: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: Refusal };

const refuse = (reason: string, culprits: readonly PartyId[] = []): { ok: false; refusal: Refusal } => ({ ok: false, refusal: { reason, culprits } });

/**
 * The share of `keyId` at `epoch`. When this node only staged that epoch, or holds the key
 * pending from a resharing, the coordinator signed a request built on it, so it was committed
 * and this node's confirm was lost (a crash or restart at the wrong moment): confirm it first.
 */
export async function loadAtEpoch(vault: ShareVault, self: PartyId, keyId: string, epoch: number): Promise<Result<LoadedShare>> {
  let stored = await vault.loadShare(keyId);
  if (!stored && (await vault.hasKey(keyId))) {
    await vault.confirmEpoch(keyId, epoch).catch(() => undefined);
    stored = await vault.loadShare(keyId);
  }
  if (!stored) return refuse(`node ${self} holds no share of key ${keyId}`);
  if (stored.epoch === epoch) return { ok: true, value: stored };
  zeroize(stored.share);
  if (epoch < stored.epoch) return refuse(`epoch ${epoch} of key ${keyId} was erased (current: ${stored.epoch})`);
  try {
    await vault.confirmEpoch(keyId, epoch);
  } catch (e) {
    return refuse(`cannot switch key ${keyId} to epoch ${epoch}: ${(e as Error).message}`);
  }
  stored = await vault.loadShare(keyId);
  if (stored?.epoch === epoch) return { ok: true, value: stored };
  if (stored) zeroize(stored.share);
  return refuse(`node ${self} holds no share of key ${keyId} at epoch ${epoch}`);
}

/**
 * Decodes a loaded share once `check` finds nothing to refuse. The encoded bytes are zeroised
 * whatever happens; the decoded share is the caller's to wipe (`adapter.wipe`).
 */
export function decodeShare(adapter: AnySchemeAdapter, stored: LoadedShare, check: () => Refusal | undefined = () => undefined): Result<unknown> {
  try {
    const refusal = check();
    if (refusal) return { ok: false, refusal };
    return { ok: true, value: adapter.decode(stored.share) };
  } finally {
    zeroize(stored.share);
  }
}

/** Encodes `share`, hands the bytes to `write`, then zeroises them and wipes `share`, whatever happens. */
export async function storeShare(adapter: AnySchemeAdapter, share: unknown, write: (encoded: Uint8Array) => Promise<void>): Promise<void> {
  const encoded = adapter.encode(share);
  try {
    await write(encoded);
  } finally {
    zeroize(encoded);
    adapter.wipe(share);
  }
}
