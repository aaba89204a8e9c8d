/**
 * AES-256-GCM as every part of the system uses it (sealed shares, provider key wrapping, the
 * ML-DSA identity, backups, channel frames): a 32-byte key, a 12-byte nonce, a 16-byte tag
 * appended to the ciphertext. One implementation, checked against Wycheproof's AES-GCM vectors
 * (test/cluster/primitives-wycheproof.test.ts); nonce management stays with each caller.
 */
import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';

export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;

/** A ciphertext that does not open under the key, nonce and associated data given. */
export class AeadError extends Error {
  override readonly name = 'AeadError';
}

/**
 * ciphertext ‖ tag of `plaintext` under `key` and `nonce`, authenticating `aad` too. A key used
 * for many messages is best a secret `KeyObject` (`createSecretKey`): OpenSSL then does not
 * import the raw bytes again for each (a channel frame costs less than half as much).
 */
export function aeadSeal(key: Uint8Array | KeyObject, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  if (aad) cipher.setAAD(aad);
  return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
}

/** The plaintext of ciphertext ‖ tag; throws AeadError when it does not authenticate. */
export function aeadOpen(key: Uint8Array | KeyObject, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
  if (sealed.length < AEAD_TAG_BYTES) throw new AeadError('ciphertext shorter than its tag');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_BYTES));
    return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - AEAD_TAG_BYTES)), decipher.final()]));
  } catch {
    throw new AeadError('ciphertext does not authenticate');
  }
}
