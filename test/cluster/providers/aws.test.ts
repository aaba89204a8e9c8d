import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsProtector } from '../../../cluster/providers/aws.ts';
import { startFakeKms, type FakeKms } from '../../fakes/aws-kms.ts';

let kms: FakeKms;
beforeAll(async () => {
  kms = await startFakeKms(['alias/mpc-node-1', 'alias/other']);
  // The default credential chain finds these in the environment, as it would an IAM role's.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
});
afterAll(() => kms.close());

const aad = new TextEncoder().encode('node-1/k1/eddsa-ed25519/0');
const config = (keyId = 'alias/mpc-node-1') => ({ type: 'aws' as const, keyId, region: 'eu-west-1', endpoint: kms.endpoint, maxAttempts: 6 });

describe('aws provider through @aws-sdk/client-kms against a local KMS wire-protocol fake', () => {
  it('wraps and unwraps with the binding as EncryptionContext, SigV4-signed', async () => {
    const p = createAwsProtector(config());
    const w = await p.wrapKey(new Uint8Array(32).fill(7), aad);
    expect(Buffer.from(await p.unwrapKey(w, aad))).toEqual(Buffer.alloc(32, 7));
    expect(kms.requests.map((r) => r.target)).toEqual(['TrentService.Encrypt', 'TrentService.Decrypt']);
    expect(kms.requests.every((r) => /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/kms\/aws4_request/.test(r.authorization))).toBe(true);
  });

  it('refuses another binding, a tampered blob and another key', async () => {
    const p = createAwsProtector(config());
    const w = await p.wrapKey(new Uint8Array(32).fill(7), aad);
    await expect(p.unwrapKey(w, new TextEncoder().encode('node-2/k1/eddsa-ed25519/0'))).rejects.toMatchObject({ code: 'unwrap_failed' });
    const tampered = { ...w, wrapped: Uint8Array.from(w.wrapped) };
    tampered.wrapped[tampered.wrapped.length - 3]! ^= 1;
    await expect(p.unwrapKey(tampered, aad)).rejects.toMatchObject({ code: 'unwrap_failed' });
    await expect(createAwsProtector(config('alias/other')).unwrapKey(w, aad)).rejects.toMatchObject({ code: 'key_not_found' });
    await expect(createAwsProtector(config('alias/missing')).wrapKey(new Uint8Array(32), aad)).rejects.toMatchObject({ code: 'key_not_found' });
  });

  it('retries throttled calls with backoff', async () => {
    const p = createAwsProtector(config());
    const before = kms.requests.length;
    kms.throttleNext(2);
    const w = await p.wrapKey(new Uint8Array(32).fill(1), aad);
    expect(kms.requests.length - before).toBe(3);
    expect(Buffer.from(await p.unwrapKey(w, aad))).toEqual(Buffer.alloc(32, 1));
  });
});
