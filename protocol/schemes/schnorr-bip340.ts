/** BIP340 Schnorr signatures by FROST(secp256k1, SHA-256) with x-only keys (FROST-secp256k1-SHA256-TR): Taproot. */
import { schnorr } from '@noble/curves/secp256k1.js';
import { encodeXpub } from '../derive.ts';
import { frostAdapter, frostUserKey } from './frost-adapter.ts';
import type { SchemeDefinition } from './types.ts';

export const schnorrBip340: SchemeDefinition<'schnorr-bip340'> = {
  name: 'schnorr-bip340',
  curve: 'secp256k1',
  message: { kind: 'fixed', bytes: 32, noun: 'message' },
  userKey: frostUserKey('schnorr-bip340'),
  xpub: encodeXpub,
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
