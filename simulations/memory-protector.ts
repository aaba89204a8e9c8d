/**
 * A share protector that keeps its key-encryption key in memory: the simulations seal shares
 * with the real sealer and ledger without a provider on disk. `delayMs` makes every unwrap as
 * slow as an HSM or KMS round trip.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ProviderError, type ShareProtector, type WrappedKey } from '../cluster/providers/types.ts';

export class MemoryProtector implements ShareProtector {
  readonly name = 'local' as const;
  delayMs = 0;
  private readonly kek = randomBytes(32);
  private readonly ref = `memory:${randomBytes(4).toString('hex')}`;

  currentKekRef(): string {
    return this.ref;
  }

  async wrapKey(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.kek, nonce).setAAD(aad);
    return { provider: 'local', kekRef: this.ref, wrapped: Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]) };
  }

  async unwrapKey(w: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (w.kekRef !== this.ref) throw new ProviderError('local', 'key_not_found', `data key wrapped under ${w.kekRef}`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.kek, w.wrapped.subarray(0, 12)).setAAD(aad);
      decipher.setAuthTag(w.wrapped.subarray(w.wrapped.length - 16));
      return new Uint8Array(Buffer.concat([decipher.update(w.wrapped.subarray(12, w.wrapped.length - 16)), decipher.final()]));
    } catch {
      throw new ProviderError('local', 'unwrap_failed', 'data key does not open');
    }
  }
}
