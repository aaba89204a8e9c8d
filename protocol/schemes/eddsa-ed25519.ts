/** Ed25519 (RFC 8032) signatures by FROST(Ed25519, SHA-512), RFC 9591. Solana and other Ed25519 chains. */
import { verify } from 'node:crypto';
import { ed25519PublicKey } from '../curves/curve25519-keys.ts';
import { solanaAddress } from './addresses.ts';
import { frostAdapter, frostUserKey } from './frost-adapter.ts';
import type { SchemeDefinition } from './types.ts';

export const eddsaEd25519: SchemeDefinition<'eddsa-ed25519'> = {
  name: 'eddsa-ed25519',
  curve: 'ed25519',
  // Ed25519 hashes the message itself; the bound keeps control messages small.
  message: { kind: 'bounded', maxBytes: 64 * 1024 },
  userKey: frostUserKey('eddsa-ed25519'),
  addresses: (key) => ({ solana: solanaAddress(key) }),
  // Ed25519 hashes the message itself (SHA-512 inside the signature): there is no digest to sign.
  hashes: [],
  taproot: false,
  recoveryId: false,
  // OpenSSL (node:crypto), not the noble code the protocol uses.
  verify: (publicKey, message, signature) => {
    try {
      return publicKey.length === 32 && signature.length === 64 && verify(null, message, ed25519PublicKey(publicKey), signature);
    } catch {
      return false;
    }
  },
  adapter: frostAdapter('eddsa-ed25519') as SchemeDefinition['adapter'],
};
