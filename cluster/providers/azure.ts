/**
 * The `azure` provider: Azure Key Vault (or Managed HSM) through the official SDK with
 * `DefaultAzureCredential` (Managed Identity, workload identity, env, CLI). Key Vault wraps with
 * RSA-OAEP-256, which has no associated data, so the binding is enforced one layer down: Key
 * Vault wraps a fresh 32-byte key k, and k seals the data key with AES-256-GCM under the binding.
 * A blob moved to another node/key/epoch unwraps k but fails the GCM check.
 */
import { randomBytes } from 'node:crypto';
import { AEAD_NONCE_BYTES, aeadOpen, aeadSeal } from '../aead.ts';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { CryptographyClient } from '@azure/keyvault-keys';
import { z } from 'zod';
import { zeroize } from '../../protocol/core/transcript.ts';
import { ProviderError, type ShareProtector, type WrappedKey } from './types.ts';

export const azureProviderConfigSchema = z.strictObject({
  type: z.literal('azure'),
  /** Full key identifier, https://<vault>.vault.azure.net/keys/<name>/<version> */
  keyId: z.string().url(),
  /** Only for private endpoints whose challenge names another resource (and local fakes). */
  disableChallengeResourceVerification: z.boolean().default(false),
});
export type AzureProviderConfig = z.infer<typeof azureProviderConfigSchema>;

const ALG = 'RSA-OAEP-256';

export function createAzureProtector(config: AzureProviderConfig, credential: TokenCredential = new DefaultAzureCredential()): ShareProtector {
  const client = new CryptographyClient(config.keyId, credential, { disableChallengeResourceVerification: config.disableChallengeResourceVerification });
  const kekRef = `azure:${config.keyId}`;
  const fail = (e: unknown, what: string): never => {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 401 || status === 403) throw new ProviderError('azure', 'auth_failed', `Key Vault denied ${what}`);
    if (status === 404) throw new ProviderError('azure', 'key_not_found', `Key Vault key ${config.keyId} not found`);
    if (status === 400 && what === 'unwrapKey') throw new ProviderError('azure', 'unwrap_failed', 'Key Vault refused to unwrap');
    throw new ProviderError('azure', 'unavailable', `Key Vault ${what} failed: ${(e as Error).name}`);
  };
  return {
    name: 'azure',
    currentKekRef: () => kekRef,
    async wrapKey(dataKey, aad): Promise<WrappedKey> {
      const k = randomBytes(32);
      try {
        let vaultWrapped: Uint8Array;
        try {
          vaultWrapped = (await client.wrapKey(ALG, k)).result;
        } catch (e) {
          return fail(e, 'wrapKey');
        }
        const iv = randomBytes(AEAD_NONCE_BYTES);
        const sealed = Buffer.concat([iv, aeadSeal(k, iv, dataKey, aad)]);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(vaultWrapped.length);
        return { provider: 'azure', kekRef, wrapped: Buffer.concat([len, vaultWrapped, sealed]) };
      } finally {
        zeroize(k);
      }
    },
    async unwrapKey(w, aad): Promise<Uint8Array> {
      if (w.provider !== 'azure' || w.kekRef !== kekRef) throw new ProviderError('azure', 'key_not_found', `data key wrapped under ${w.provider}/${w.kekRef}, this provider holds ${kekRef}`);
      const blob = Buffer.from(w.wrapped);
      const n = blob.length >= 2 ? blob.readUInt16BE(0) : Infinity;
      if (blob.length < 2 + n + 12 + 16) throw new ProviderError('azure', 'unwrap_failed', 'wrapped key is truncated');
      let k: Uint8Array;
      try {
        k = (await client.unwrapKey(ALG, blob.subarray(2, 2 + n))).result;
      } catch (e) {
        return fail(e, 'unwrapKey');
      }
      try {
        const sealed = blob.subarray(2 + n);
        return aeadOpen(k, sealed.subarray(0, AEAD_NONCE_BYTES), sealed.subarray(AEAD_NONCE_BYTES), aad);
      } catch {
        throw new ProviderError('azure', 'unwrap_failed', 'the wrapped data key does not open under this binding');
      } finally {
        zeroize(k);
      }
    },
  };
}
