/**
 * RFC 8032 Ed25519 signatures on native libsodium, for the signatures a member makes and checks
 * on every message (envelopes) and every audit entry: about half the CPU of OpenSSL's through
 * `node:crypto` on the same machine (sign 17 against 28–38 µs, verify 47–54 against 78–91).
 * Signatures are the same bytes (Ed25519 is deterministic). Verification is libsodium's strict
 * one: besides a non-canonical S it refuses non-canonical and small-order public keys and
 * small-order R, which no honest signer produces; it agrees with every Wycheproof case.
 *
 * The eddsa-ed25519 scheme's verifier stays on OpenSSL on purpose: a signature the FROST code
 * computed on libsodium's arithmetic is checked by another implementation.
 */
import { sodiumNative as lib } from './sodium-native-module.ts';

export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/**
 * A signer for the 32-byte secret `seed`. The expanded secret key lives in libsodium's guarded,
 * swap-locked memory, outside the JavaScript heap, for as long as the signer does.
 */
export function ed25519Signer(seed: Uint8Array): Ed25519Signer {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  const publicKey = new Uint8Array(32);
  const secretKey = lib.sodium_malloc(64);
  lib.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  return {
    publicKey,
    sign: (message) => {
      const signature = new Uint8Array(64);
      lib.crypto_sign_detached(signature, message, secretKey);
      return signature;
    },
  };
}

/** Whether `signature` is a valid RFC 8032 signature of `message` under the 32-byte `publicKey`. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  return lib.crypto_sign_verify_detached(signature, message, publicKey);
}
