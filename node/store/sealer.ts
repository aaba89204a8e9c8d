/**
 * Envelope encryption of key shares: a fresh 32-byte data key encrypts the share with
 * AES-256-GCM, and the node's provider wraps the data key under its key-encryption key. Both
 * layers authenticate the binding (node, key, scheme, epoch), so a record copied to another
 * node, key or epoch does not open.
 */
import { randomBytes } from 'node:crypto';
import { AEAD_NONCE_BYTES, aeadOpen, aeadSeal } from '../../cluster/aead.ts';
import { bytes, decodeCbor, encodeCbor, struct, text, uint, type Bytes } from '../../protocol/core/codec.ts';
import { zeroize } from '../../protocol/core/transcript.ts';
import { ProviderError, type ProviderName, type ShareBinding, type ShareProtector } from '../../cluster/providers/types.ts';

export const SEALED_FORMAT_VERSION = 1;

interface SealedRecord {
  version: number;
  provider: string;
  kekRef: string;
  wrappedKey: Bytes;
  nonce: Bytes;
  ciphertext: Bytes;
}

const sealedCodec = struct<SealedRecord>({
  version: uint(255),
  provider: text(32),
  kekRef: text(512),
  wrappedKey: bytes({ min: 16, max: 4096 }),
  nonce: bytes(12),
  ciphertext: bytes({ min: 17, max: 16 * 1024 * 1024 }),
});

const bindingCodec = struct<{ domain: string; nodeId: string; keyId: string; scheme: string; epoch: number }>({
  domain: text(64),
  nodeId: text(64),
  keyId: text(128),
  scheme: text(32),
  epoch: uint(2 ** 32),
});

/** The canonical bytes every layer of a sealed share authenticates. */
export function bindingBytes(b: ShareBinding): Uint8Array {
  return encodeCbor(bindingCodec, { domain: 'mpc-signer/sealed-share/v1', ...b });
}

export class SealedShareError extends Error {
  override readonly name = 'SealedShareError';
  readonly code: 'unseal_failed' | 'not_found' | 'corrupt';
  constructor(code: SealedShareError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface SealerCounters {
  unwrapCount: number;
  /** Unseals that failed: the provider refused or was unreachable, or the record did not authenticate. */
  unsealFailures: number;
}

export class ShareSealer {
  private protector: ShareProtector;
  readonly counters: SealerCounters = { unwrapCount: 0, unsealFailures: 0 };
  /** Sees every provider unwrap's duration in seconds (the node's metrics histogram). */
  onUnwrap: ((seconds: number) => void) | undefined;

  constructor(protector: ShareProtector) {
    this.protector = protector;
  }

  async seal(binding: ShareBinding, share: Uint8Array): Promise<Uint8Array> {
    const aad = bindingBytes(binding);
    const dataKey = new Uint8Array(randomBytes(32));
    try {
      const nonce = randomBytes(AEAD_NONCE_BYTES);
      const ciphertext = aeadSeal(dataKey, nonce, share, aad);
      const wrapped = await this.protector.wrapKey(dataKey, aad);
      return encodeCbor(sealedCodec, {
        version: SEALED_FORMAT_VERSION,
        provider: wrapped.provider,
        kekRef: wrapped.kekRef,
        wrappedKey: wrapped.wrapped as Bytes,
        nonce: nonce as Bytes,
        ciphertext: ciphertext as Bytes,
      });
    } finally {
      zeroize(dataKey);
    }
  }

  /** The share sealed in `raw` under `binding`; the caller zeroises it. */
  async unseal(binding: ShareBinding, raw: Uint8Array): Promise<Uint8Array> {
    let record: SealedRecord;
    try {
      record = decodeCbor(sealedCodec, raw);
    } catch (e) {
      throw new SealedShareError('corrupt', `sealed record of ${binding.keyId}/${binding.epoch} is malformed: ${(e as Error).message}`);
    }
    if (record.version !== SEALED_FORMAT_VERSION) throw new SealedShareError('corrupt', `unknown sealed record version ${record.version}`);
    const aad = bindingBytes(binding);
    const started = performance.now();
    let dataKey: Uint8Array;
    try {
      dataKey = await this.protector.unwrapKey({ provider: record.provider as ProviderName, kekRef: record.kekRef, wrapped: record.wrappedKey }, aad);
    } catch (e) {
      this.counters.unsealFailures++;
      throw new SealedShareError('unseal_failed', `share ${binding.keyId}/${binding.epoch} does not open: ${e instanceof ProviderError ? e.message : 'unwrap failed'}`);
    } finally {
      this.counters.unwrapCount++;
      this.onUnwrap?.((performance.now() - started) / 1000);
    }
    try {
      return aeadOpen(dataKey, record.nonce, record.ciphertext, aad);
    } catch {
      this.counters.unsealFailures++;
      throw new SealedShareError('unseal_failed', `share ${binding.keyId}/${binding.epoch} does not open under its binding`);
    } finally {
      zeroize(dataKey);
    }
  }

  /**
   * `raw` with its data key re-wrapped under `next` (provider key rotation; the share's
   * ciphertext is untouched), or undefined when it is already wrapped under `next`'s current key.
   */
  async rewrap(binding: ShareBinding, raw: Uint8Array, next: ShareProtector): Promise<Uint8Array | undefined> {
    const record = decodeCbor(sealedCodec, raw);
    if (record.provider === next.name && record.kekRef === next.currentKekRef()) return undefined;
    const aad = bindingBytes(binding);
    const dataKey = await this.protector.unwrapKey({ provider: record.provider as ProviderName, kekRef: record.kekRef, wrapped: record.wrappedKey }, aad);
    try {
      const wrapped = await next.wrapKey(dataKey, aad);
      return encodeCbor(sealedCodec, { ...record, provider: wrapped.provider, kekRef: wrapped.kekRef, wrappedKey: wrapped.wrapped as Bytes });
    } finally {
      zeroize(dataKey);
    }
  }

  /** Seals and unseals under `next` from now on (after every record was re-wrapped). */
  switchTo(next: ShareProtector): void {
    this.protector = next;
  }
}
