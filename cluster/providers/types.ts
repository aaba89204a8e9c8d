/**
 * What a node's HSM provider offers. Two capabilities, kept apart as in HSM practice:
 * a share protector (envelope encryption of per-share data keys under a key-encryption
 * key that never leaves the provider) and a signer for the node's identity key.
 */

/** What a sealed share is bound to: opening it under any other binding must fail. */
export interface ShareBinding {
  readonly nodeId: string;
  readonly keyId: string;
  readonly scheme: string;
  readonly epoch: number;
}

/** A data key wrapped by a provider, with what is needed to unwrap it again. */
export interface WrappedKey {
  /** Provider name, e.g. `pkcs11`, so a record says which provider can open it. */
  readonly provider: ProviderName;
  /** Which key-encryption key wrapped it (label, ARN, resource name, version...). */
  readonly kekRef: string;
  /** Opaque provider output. */
  readonly wrapped: Uint8Array;
}

export interface ShareProtector {
  readonly name: ProviderName;
  /** Reference of the key-encryption key new wraps use (changes on rotation). */
  currentKekRef(): string;
  /** Wraps a 32-byte data key; `aad` is the canonical encoding of the binding. */
  wrapKey(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey>;
  /** Unwraps; throws {@link ProviderError} with code `unwrap_failed` when the binding or bytes differ. */
  unwrapKey(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array>;
}

export type SignatureAlgorithm = 'ed25519' | 'ml-dsa-65';

export interface IdentitySigner {
  readonly algorithm: SignatureAlgorithm;
  publicKey(keyRef?: string): Promise<Uint8Array>;
  sign(message: Uint8Array, keyRef?: string): Promise<Uint8Array>;
  verify(message: Uint8Array, signature: Uint8Array, keyRef?: string): Promise<boolean>;
}

export type ProviderName = 'local' | 'pkcs11' | 'aws' | 'gcp' | 'azure' | 'zymbit' | 'mldsa';

export type ProviderErrorCode =
  | 'misconfigured' // bad or missing settings, found at start-up
  | 'refused' // e.g. the local provider under NODE_ENV=production
  | 'auth_failed' // wrong PIN, bad credentials
  | 'unavailable' // provider unreachable after retries
  | 'unwrap_failed' // tampered record or wrong binding
  | 'key_not_found';

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly code: ProviderErrorCode;
  readonly provider: ProviderName;
  constructor(provider: ProviderName, code: ProviderErrorCode, message: string) {
    super(`${provider}: ${message}`);
    this.code = code;
    this.provider = provider;
  }
}

