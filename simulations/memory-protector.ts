/**
 * A share protector that keeps its key-encryption key in memory: the simulations seal shares
 * with the real sealer and ledger without a provider on disk. `delayMs` makes every unwrap as
 * slow as an HSM or KMS round trip.
 */
import { randomBytes } from 'node:crypto';
import { aeadOpen, aeadSeal } from '../cluster/aead.ts';
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
    return { provider: 'local', kekRef: this.ref, wrapped: Buffer.concat([nonce, aeadSeal(this.kek, nonce, dataKey, aad)]) };
  }

  async unwrapKey(w: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (w.kekRef !== this.ref) throw new ProviderError('local', 'key_not_found', `data key wrapped under ${w.kekRef}`);
    try {
      return aeadOpen(this.kek, w.wrapped.subarray(0, 12), w.wrapped.subarray(12), aad);
    } catch {
      throw new ProviderError('local', 'unwrap_failed', 'data key does not open');
    }
  }
}
