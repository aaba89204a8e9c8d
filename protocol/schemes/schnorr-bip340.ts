/**
 * BIP340 Schnorr signatures by FROST(secp256k1, SHA-256) with x-only keys (FROST-secp256k1-SHA256-TR).
 * The key is the DKG's key P, the Taproot **internal** key: plain BIP340 (Nostr, DLCs) signs under
 * it, and a Taproot spend (taproot.ts) under its BIP86 or BIP341 output key.
 */
import { verifyBip340Libsecp } from '../curves/secp256k1-libsecp.ts';
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
  // libsecp256k1's BIP340 verification, the one Bitcoin Core runs for Taproot (~0.3 ms against
  // noble's ~1.8, paid by the coordinator for every signature); tests verify with noble too.
  verify: (publicKey, message, signature) => publicKey.length === 32 && verifyBip340Libsecp(signature, message, publicKey) === true,
  adapter: frostAdapter('schnorr-bip340') as SchemeDefinition['adapter'],
};
