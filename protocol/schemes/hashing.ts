/**
 * Signing a preimage instead of a digest: the nodes hash it themselves, so what each records in
 * its audit log is what was signed, not a digest someone else vouched for.
 *
 *   keccak256   Ethereum transaction and typed-data hashes
 *   sha256      BIP340 messages, most non-Bitcoin ECDSA
 *   sha256d     Bitcoin legacy/SegWit v0 sighashes (SHA-256 twice)
 *   eip191      Ethereum personal messages: keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ m)
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export const MESSAGE_HASHES = ['keccak256', 'sha256', 'sha256d', 'eip191'] as const;
export type MessageHash = (typeof MESSAGE_HASHES)[number];

export function isMessageHash(v: unknown): v is MessageHash {
  return typeof v === 'string' && (MESSAGE_HASHES as readonly string[]).includes(v);
}

/** The 32-byte digest of `preimage` under `hash`. */
export function digestOf(hash: MessageHash, preimage: Uint8Array): Uint8Array {
  switch (hash) {
    case 'keccak256':
      return keccak_256(preimage);
    case 'sha256':
      return sha256(preimage);
    case 'sha256d':
      return sha256(sha256(preimage));
    case 'eip191':
      return keccak_256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${preimage.length}`), preimage));
  }
}
