import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureProtector } from '../../../cluster/providers/azure.ts';
import { startFakeKeyVault, type FakeKeyVault } from '../../fakes/azure-keyvault.ts';

let kv: FakeKeyVault;
const scopes: string[] = [];
// Stands in for Managed Identity: hands out a token for the scope the vault's challenge names.
const credential: TokenCredential = {
  async getToken(scope): Promise<AccessToken> {
    scopes.push(String(scope));
    return { token: 'eyJ.test.token', expiresOnTimestamp: Date.now() + 3600_000 };
  },
};
beforeAll(async () => {
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // the fake's certificate is self-signed
  kv = await startFakeKeyVault(['node-1', 'other']);
});
afterAll(() => kv.close());

const aad = new TextEncoder().encode('node-1/k1/ecdsa-secp256k1/0');
const config = (name = 'node-1') => ({ type: 'azure' as const, keyId: kv.keyId(name), disableChallengeResourceVerification: true });

describe('azure provider through @azure/keyvault-keys against a local Key Vault wire-protocol fake (HTTPS)', () => {
  it('wraps with RSA-OAEP-256 in the vault and binds the binding one layer down', async () => {
    const p = createAzureProtector(config(), credential);
    const w = await p.wrapKey(new Uint8Array(32).fill(9), aad);
    expect(Buffer.from(await p.unwrapKey(w, aad))).toEqual(Buffer.alloc(32, 9));
    expect(scopes.every((s) => s === 'https://vault.azure.net/.default')).toBe(true);
    expect(kv.requests.some((r) => r.path.endsWith('/unwrapkey') && r.authorization === 'Bearer eyJ.test.token')).toBe(true);
  });

  it('refuses another binding, a tampered blob and another key', async () => {
    const p = createAzureProtector(config(), credential);
    const w = await p.wrapKey(new Uint8Array(32).fill(9), aad);
    await expect(p.unwrapKey(w, new TextEncoder().encode('node-1/k1/ecdsa-secp256k1/1'))).rejects.toMatchObject({ code: 'unwrap_failed' });
    const tampered = { ...w, wrapped: Uint8Array.from(w.wrapped) };
    tampered.wrapped[10]! ^= 1; // inside the vault-wrapped part
    await expect(p.unwrapKey(tampered, aad)).rejects.toMatchObject({ code: 'unwrap_failed' });
    const other = createAzureProtector(config('other'), credential);
    await expect(other.unwrapKey({ ...w, kekRef: other.currentKekRef() }, aad)).rejects.toMatchObject({ code: 'unwrap_failed' });
  });
});
