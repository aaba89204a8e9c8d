/**
 * Builds a member's share protector from its `provider` config section.
 *
 * The cloud providers are imported only when configured: their SDKs (AWS, Google Cloud, Azure)
 * are most of a node's start-up time and memory, and a node uses one provider.
 */
import { createLocalProtector, localProviderConfigSchema } from './local.ts';
import { createPkcs11Protector, pkcs11ProviderConfigSchema } from './pkcs11.ts';
import { createZymbitProtector, zymbitProviderConfigSchema } from './zymbit.ts';
import type { z } from 'zod';
import { ProviderError, type ProviderName, type ShareProtector } from './types.ts';

const KNOWN: readonly ProviderName[] = ['local', 'pkcs11', 'aws', 'gcp', 'azure', 'zymbit', 'mldsa'];

export async function createProtector(config: { type: string } & Record<string, unknown>, env: Record<string, string | undefined> = process.env): Promise<ShareProtector> {
  switch (config.type) {
    case 'local':
      return createLocalProtector(parse(localProviderConfigSchema, config, 'local'), env);
    case 'pkcs11':
      return createPkcs11Protector(parse(pkcs11ProviderConfigSchema, config, 'pkcs11'), env);
    case 'aws': {
      const { awsProviderConfigSchema, createAwsProtector } = await import('./aws.ts');
      return createAwsProtector(parse(awsProviderConfigSchema, config, 'aws'));
    }
    case 'gcp': {
      const { createGcpProtector, gcpProviderConfigSchema } = await import('./gcp.ts');
      return createGcpProtector(parse(gcpProviderConfigSchema, config, 'gcp'));
    }
    case 'azure': {
      const { azureProviderConfigSchema, createAzureProtector } = await import('./azure.ts');
      return createAzureProtector(parse(azureProviderConfigSchema, config, 'azure'));
    }
    case 'zymbit':
      return createZymbitProtector(parse(zymbitProviderConfigSchema, config, 'zymbit'), env);
    case 'mldsa':
      throw new ProviderError('mldsa', 'misconfigured', 'mldsa is an identity signer, not a share protector: keep a protector provider here and enable the ML-DSA-65 identity (cluster/providers/mldsa.ts)');
    default:
      throw new ProviderError('local', 'misconfigured', `provider.type: unknown provider ${JSON.stringify(config.type)} (expected one of ${KNOWN.join(', ')})`);
  }
}

function parse<S extends z.ZodType>(schema: S, config: unknown, provider: ProviderName): z.infer<S> {
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ProviderError(provider, 'misconfigured', `provider.${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
