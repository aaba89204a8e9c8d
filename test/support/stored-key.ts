/** A key's public record as the share ledger stores it, for store tests (2-of-3 Ed25519, fixed bytes). */
import type { StoredKey } from '../../node/store/types.ts';
import type { PartyId } from '../../protocol/core/ids.ts';

export const storedKey = (keyId: string): StoredKey => ({
  keyId,
  scheme: 'eddsa-ed25519',
  threshold: 2,
  parties: [1, 2, 3] as PartyId[],
  groupKey: new Uint8Array(32).fill(9),
  chainCode: new Uint8Array(32).fill(7),
});
