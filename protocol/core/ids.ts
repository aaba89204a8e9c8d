import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { ProtocolConfigError } from './config-error.ts';

/** A party's index in a key's committee: a positive integer, also its Shamir x-coordinate. */
export type PartyId = number & { readonly __brand: 'PartyId' };

/** Largest party index we accept; keeps identifiers small and encodings bounded. */
export const MAX_PARTY_ID = 0xffff;

export function partyId(n: number): PartyId {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_PARTY_ID) {
    throw new ProtocolConfigError(`party id must be an integer in [1, ${MAX_PARTY_ID}], got ${n}`);
  }
  return n as PartyId;
}

/** 32 random bytes naming one protocol session, hex-encoded so it can key maps. */
export type SessionId = string & { readonly __brand: 'SessionId' };

export const SESSION_ID_BYTES = 32;

export function sessionId(bytes: Uint8Array): SessionId {
  if (bytes.length !== SESSION_ID_BYTES) {
    throw new ProtocolConfigError(`session id must be ${SESSION_ID_BYTES} bytes, got ${bytes.length}`);
  }
  return bytesToHex(bytes) as SessionId;
}

export function sessionIdFromHex(hex: string): SessionId {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ProtocolConfigError('session id must be 64 lowercase hex characters');
  return hex as SessionId;
}

export function sessionIdBytes(id: SessionId): Uint8Array {
  return hexToBytes(id);
}

/** Injected randomness: returns `n` uniformly random bytes. Protocol code never reads a global RNG. */
export type Rng = (n: number) => Uint8Array;

/** Sorted, duplicate-free party list; throws on duplicates. */
export function sortedParties(ids: readonly number[]): PartyId[] {
  const sorted = ids.map(partyId).sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new ProtocolConfigError(`duplicate party id ${sorted[i]}`);
  }
  return sorted;
}
