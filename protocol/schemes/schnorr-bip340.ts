/**
 * BIP340 Schnorr signatures by FROST(secp256k1, SHA-256) with x-only keys (FROST-secp256k1-SHA256-TR).
 * The key is the DKG's key P, the Taproot **internal** key: plain BIP340 (Nostr, DLCs) signs under
 * it, and a Taproot spend (taproot.ts) under its BIP86 or BIP341 output key.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { encodeXpub } from '../derive.ts';
import { p2trAddress } from './addresses.ts';
import { frostAdapter, frostUserKey } from './frost-adapter.ts';
import { taprootOutputKey } from './taproot.ts';
import type { SchemeDefinition } from './types.ts';

export const schnorrBip340: SchemeDefinition<'schnorr-bip340'> = {
  name: 'schnorr-bip340',
  curve: 'secp256k1',
  message: { kind: 'fixed', bytes: 32, noun: 'message' },
  userKey: frostUserKey('schnorr-bip340'),
  xpub: encodeXpub,
  // The address of the key is its BIP86 output's: a key-path-only Taproot output.
  addresses: (key, network) => ({ p2tr: p2trAddress(taprootOutputKey(key), network) }),
  hashes: ['sha256', 'sha256d', 'keccak256'],
  taproot: true,
  recoveryId: false,
  // noble's BIP340 verifier: independent of the FROST aggregation that produced the signature.
  verify: (publicKey, message, signature) => {
    try {
      return publicKey.length === 32 && message.length === 32 && signature.length === 64 && schnorr.verify(signature, message, publicKey);
    } catch {
      return false;
    }
  },
  adapter: frostAdapter('schnorr-bip340') as SchemeDefinition['adapter'],
};
