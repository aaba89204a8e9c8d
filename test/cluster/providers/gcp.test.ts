import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGcpProtector } from '../../../cluster/providers/gcp.ts';
import { startFakeCloudKms, type FakeCloudKms } from '../../fakes/gcp-kms.ts';

const KEY = 'projects/p/locations/europe-west1/keyRings/mpc/cryptoKeys/node-1';
let kms: FakeCloudKms;
beforeAll(async () => {
  kms = await startFakeCloudKms([KEY, 'projects/p/locations/europe-west1/keyRings/mpc/cryptoKeys/other']);
});
afterAll(() => kms.close());

// Stands in for Workload Identity: an OAuth2 client holding an access token (no metadata server here).
const auth = () => {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: 'ya29.test-token', expiry_date: Date.now() + 3600_000 });
  return client;
};
const config = (keyName = KEY) => ({ type: 'gcp' as const, keyName, apiEndpoint: '127.0.0.1', port: kms.port, protocol: 'http' as const });
const aad = new TextEncoder().encode('node-1/k1/schnorr-bip340/0');

describe('gcp provider through @google-cloud/kms (REST) against a local Cloud KMS wire-protocol fake', () => {
  it('wraps and unwraps with the binding as additionalAuthenticatedData, with a bearer token', async () => {
    const p = createGcpProtector(config(), auth());
    const w = await p.wrapKey(new Uint8Array(32).fill(3), aad);
    expect(Buffer.from(await p.unwrapKey(w, aad))).toEqual(Buffer.alloc(32, 3));
    expect(kms.requests.map((r) => r.path)).toEqual([`/v1/${KEY}:encrypt`, `/v1/${KEY}:decrypt`]);
    expect(kms.requests.every((r) => r.authorization === 'Bearer ya29.test-token')).toBe(true);
  });

  it('refuses another binding, a tampered blob and a missing key', async () => {
    const p = createGcpProtector(config(), auth());
    const w = await p.wrapKey(new Uint8Array(32).fill(3), aad);
    await expect(p.unwrapKey(w, new TextEncoder().encode('node-1/k1/schnorr-bip340/1'))).rejects.toMatchObject({ code: 'unwrap_failed' });
    const tampered = { ...w, wrapped: Uint8Array.from(w.wrapped) };
    tampered.wrapped[14]! ^= 1;
    await expect(p.unwrapKey(tampered, aad)).rejects.toMatchObject({ code: 'unwrap_failed' });
    await expect(createGcpProtector(config('projects/p/locations/l/keyRings/r/cryptoKeys/missing'), auth()).wrapKey(new Uint8Array(32), aad)).rejects.toMatchObject({ code: 'key_not_found' });
  });
});
