/**
 * The `zymbit` provider: a Zymbit hardware security module reached through its local REST
 * service. The contract this provider speaks (the service's wrap/unwrap endpoints):
 *
 *   POST {endpoint}/v1/wrap    {"keySlot":n,"plaintext":b64,"aad":b64}   → {"ciphertext":b64}
 *   POST {endpoint}/v1/unwrap  {"keySlot":n,"ciphertext":b64,"aad":b64}  → {"plaintext":b64}
 *
 * authenticated with `Authorization: Bearer <token>` from an environment variable. Plain
 * HTTP is accepted only on the loopback interface (the device sits on the same host);
 * anything else must be HTTPS, and configuration saying otherwise is refused at start-up.
 */
import { z } from 'zod';
import { ProviderError, type ShareProtector, type WrappedKey } from './types.ts';

export const zymbitProviderConfigSchema = z.strictObject({
  type: z.literal('zymbit'),
  endpoint: z.string().url(),
  keySlot: z.number().int().min(0).max(1023),
  tokenEnv: z.string().min(1).default('MPC_ZYMBIT_TOKEN'),
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
});
export type ZymbitProviderConfig = z.infer<typeof zymbitProviderConfigSchema>;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function createZymbitProtector(config: ZymbitProviderConfig, env: Record<string, string | undefined> = process.env): ShareProtector {
  const url = new URL(config.endpoint);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new ProviderError('zymbit', 'misconfigured', `provider.endpoint: ${url.origin} is not on this host, so it must use https://`);
  }
  const token = env[config.tokenEnv];
  if (!token) throw new ProviderError('zymbit', 'misconfigured', `set ${config.tokenEnv} (provider.tokenEnv) to the device service token`);
  const kekRef = `zymbit:${url.host}/slot-${config.keySlot}`;
  const call = async (op: 'wrap' | 'unwrap', body: Record<string, unknown>): Promise<Record<string, string>> => {
    let res: Response;
    try {
      res = await fetch(new URL(`/v1/${op}`, url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ keySlot: config.keySlot, ...body }),
        signal: AbortSignal.timeout(config.timeoutMs),
      });
    } catch (e) {
      throw new ProviderError('zymbit', 'unavailable', `device service unreachable: ${(e as Error).name}`);
    }
    if (res.status === 401 || res.status === 403) throw new ProviderError('zymbit', 'auth_failed', 'the device service refused the token');
    if (res.status === 404) throw new ProviderError('zymbit', 'key_not_found', `no key in slot ${config.keySlot}`);
    if (res.status === 400 && op === 'unwrap') throw new ProviderError('zymbit', 'unwrap_failed', 'the device refused to unwrap under this binding');
    if (!res.ok) throw new ProviderError('zymbit', 'unavailable', `device service answered ${res.status}`);
    return (await res.json()) as Record<string, string>;
  };
  return {
    name: 'zymbit',
    currentKekRef: () => kekRef,
    async wrapKey(dataKey, aad): Promise<WrappedKey> {
      const out = await call('wrap', { plaintext: Buffer.from(dataKey).toString('base64'), aad: Buffer.from(aad).toString('base64') });
      return { provider: 'zymbit', kekRef, wrapped: Buffer.from(out.ciphertext ?? '', 'base64') };
    },
    async unwrapKey(w, aad): Promise<Uint8Array> {
      if (w.provider !== 'zymbit' || w.kekRef !== kekRef) throw new ProviderError('zymbit', 'key_not_found', `data key wrapped under ${w.provider}/${w.kekRef}, this provider holds ${kekRef}`);
      const out = await call('unwrap', { ciphertext: Buffer.from(w.wrapped).toString('base64'), aad: Buffer.from(aad).toString('base64') });
      return new Uint8Array(Buffer.from(out.plaintext ?? '', 'base64'));
    },
  };
}
