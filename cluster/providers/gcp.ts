/**
 * The `gcp` provider: Cloud KMS through the official client (REST transport). Data keys are
 * wrapped with encrypt/decrypt under a CryptoKey; the share binding is the request's
 * additionalAuthenticatedData, so a blob moved to another node/key/epoch fails to decrypt.
 * Credentials: Application Default Credentials / Workload Identity (or an injected client).
 */
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { z } from 'zod';
import { ProviderError, type ShareProtector, type WrappedKey } from './types.ts';

export const gcpProviderConfigSchema = z.strictObject({
  type: z.literal('gcp'),
  /** projects/P/locations/L/keyRings/R/cryptoKeys/K */
  keyName: z.string().regex(/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/, 'expected projects/P/locations/L/keyRings/R/cryptoKeys/K'),
  /** Custom endpoint host (private service connect, or a local wire-protocol fake in tests). */
  apiEndpoint: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  protocol: z.enum(['https', 'http']).default('https'),
});
export type GcpProviderConfig = z.infer<typeof gcpProviderConfigSchema>;

/** Google's canonical error statuses, whether reported as gRPC codes or HTTP statuses. */
function errorStatus(e: unknown): 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'DENIED' | 'OTHER' {
  const code = (e as { code?: number }).code;
  const text = String((e as Error).message ?? '');
  if (code === 3 || code === 400 || text.includes('INVALID_ARGUMENT')) return 'INVALID_ARGUMENT';
  if (code === 5 || code === 404 || text.includes('NOT_FOUND')) return 'NOT_FOUND';
  if (code === 7 || code === 16 || code === 401 || code === 403) return 'DENIED';
  return 'OTHER';
}

export function createGcpProtector(config: GcpProviderConfig, authClient?: unknown): ShareProtector {
  const client = new KeyManagementServiceClient({
    fallback: true,
    protocol: config.protocol,
    ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}),
    ...(config.port ? { port: config.port } : {}),
    ...(authClient ? { authClient: authClient as never } : {}),
  });
  const kekRef = `gcp:${config.keyName}`;
  const fail = (e: unknown, what: string): never => {
    const status = errorStatus(e);
    if (status === 'INVALID_ARGUMENT' && what === 'decrypt') throw new ProviderError('gcp', 'unwrap_failed', 'Cloud KMS refused to decrypt under this binding');
    if (status === 'NOT_FOUND') throw new ProviderError('gcp', 'key_not_found', `Cloud KMS key ${config.keyName} not found`);
    if (status === 'DENIED') throw new ProviderError('gcp', 'auth_failed', `Cloud KMS denied ${what}`);
    throw new ProviderError('gcp', 'unavailable', `Cloud KMS ${what} failed (${status})`);
  };
  return {
    name: 'gcp',
    currentKekRef: () => kekRef,
    async wrapKey(dataKey, aad): Promise<WrappedKey> {
      try {
        const [out] = await client.encrypt({ name: config.keyName, plaintext: Buffer.from(dataKey), additionalAuthenticatedData: Buffer.from(aad) });
        if (!out.ciphertext) throw new Error('empty ciphertext');
        return { provider: 'gcp', kekRef, wrapped: Buffer.from(out.ciphertext as Uint8Array) };
      } catch (e) {
        return fail(e, 'encrypt');
      }
    },
    async unwrapKey(w, aad): Promise<Uint8Array> {
      if (w.provider !== 'gcp' || w.kekRef !== kekRef) throw new ProviderError('gcp', 'key_not_found', `data key wrapped under ${w.provider}/${w.kekRef}, this provider holds ${kekRef}`);
      try {
        const [out] = await client.decrypt({ name: config.keyName, ciphertext: Buffer.from(w.wrapped), additionalAuthenticatedData: Buffer.from(aad) });
        if (!out.plaintext) throw new Error('empty plaintext');
        return new Uint8Array(out.plaintext as Uint8Array);
      } catch (e) {
        return fail(e, 'decrypt');
      }
    },
  };
}
