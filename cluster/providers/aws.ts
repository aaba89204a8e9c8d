/**
 * The `aws` provider: AWS KMS through the official SDK. Data keys are wrapped with
 * Encrypt/Decrypt under a KMS key; the share binding travels as the EncryptionContext, which
 * KMS authenticates (and CloudTrail logs), so a blob moved to another node/key/epoch fails to
 * decrypt. Credentials come from the default chain (IAM role, IRSA, env, profile): no static
 * keys are needed. Throttling is retried by the SDK with exponential backoff and jitter.
 */
import { DecryptCommand, EncryptCommand, KMSClient, KMSServiceException } from '@aws-sdk/client-kms';
import { z } from 'zod';
import { ProviderError, type ShareProtector, type WrappedKey } from './types.ts';

export const awsProviderConfigSchema = z.strictObject({
  type: z.literal('aws'),
  /** Key id, ARN or alias of a symmetric KMS key. */
  keyId: z.string().min(1),
  region: z.string().min(1),
  /** Custom endpoint (VPC endpoint, or a local wire-protocol fake in tests). */
  endpoint: z.string().url().optional(),
  maxAttempts: z.number().int().min(1).max(20).default(6),
});
export type AwsProviderConfig = z.infer<typeof awsProviderConfigSchema>;

/** The EncryptionContext carrying the binding (KMS wants string values). */
const contextFor = (aad: Uint8Array) => ({ 'mpc-signer:binding': Buffer.from(aad).toString('base64') });

export function createAwsProtector(config: AwsProviderConfig): ShareProtector {
  const client = new KMSClient({
    region: config.region,
    maxAttempts: config.maxAttempts,
    retryMode: 'standard',
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  });
  const kekRef = `aws:${config.keyId}`;
  const fail = (e: unknown, what: string): never => {
    if (e instanceof KMSServiceException) {
      if (e.name === 'InvalidCiphertextException' || e.name === 'IncorrectKeyException') throw new ProviderError('aws', 'unwrap_failed', 'KMS refused to decrypt under this binding');
      if (e.name === 'AccessDeniedException' || e.name === 'UnrecognizedClientException') throw new ProviderError('aws', 'auth_failed', `KMS denied ${what}: ${e.name}`);
      if (e.name === 'NotFoundException' || e.name === 'DisabledException') throw new ProviderError('aws', 'key_not_found', `KMS key ${config.keyId}: ${e.name}`);
    }
    throw new ProviderError('aws', 'unavailable', `KMS ${what} failed: ${(e as Error).name}`);
  };
  return {
    name: 'aws',
    currentKekRef: () => kekRef,
    async wrapKey(dataKey, aad): Promise<WrappedKey> {
      try {
        const out = await client.send(new EncryptCommand({ KeyId: config.keyId, Plaintext: dataKey, EncryptionContext: contextFor(aad) }));
        if (!out.CiphertextBlob) throw new Error('empty CiphertextBlob');
        return { provider: 'aws', kekRef, wrapped: out.CiphertextBlob };
      } catch (e) {
        return fail(e, 'Encrypt');
      }
    },
    async unwrapKey(w, aad): Promise<Uint8Array> {
      if (w.provider !== 'aws' || w.kekRef !== kekRef) throw new ProviderError('aws', 'key_not_found', `data key wrapped under ${w.provider}/${w.kekRef}, this provider holds ${kekRef}`);
      try {
        const out = await client.send(new DecryptCommand({ KeyId: config.keyId, CiphertextBlob: w.wrapped, EncryptionContext: contextFor(aad) }));
        if (!out.Plaintext) throw new Error('empty Plaintext');
        return out.Plaintext;
      } catch (e) {
        return fail(e, 'Decrypt');
      }
    },
  };
}
