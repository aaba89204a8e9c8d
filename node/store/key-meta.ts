/**
 * A key's metadata record in the share ledger (JSON, beside its sealed epochs): the public
 * facts of the key, its current epoch and status, a staged committee change, burned pairs, and
 * its custody. Conversions to and from the runtime's `StoredKey`.
 */
import type { PartyId } from '../../protocol/core/ids.ts';
import type { Scheme } from '../../protocol/schemes/index.ts';
import type { StoredKey } from './types.ts';

/** `pending`: the node received its first share of the key by resharing, not yet confirmed. */
export type KeyStatus = 'active' | 'pending';

export interface KeyMeta {
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
  label?: string;
}

export function toMeta(key: StoredKey, epoch: number): KeyMeta {
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
    ...(key.label ? { label: key.label } : {}),
  };
}

export function toStoredKey(m: KeyMeta): StoredKey {
  return {
    keyId: m.keyId,
    scheme: m.scheme,
    threshold: m.threshold,
    parties: m.parties as PartyId[],
    groupKey: Buffer.from(m.groupKey, 'hex'),
    chainCode: Buffer.from(m.chainCode, 'hex'),
    ...(m.custody ? { custody: { ...m.custody, members: m.custody.members as PartyId[] } } : {}),
    ...(m.label ? { label: m.label } : {}),
  };
}
