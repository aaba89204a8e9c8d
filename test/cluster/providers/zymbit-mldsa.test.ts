import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalProtector } from '../../../cluster/providers/local.ts';
import { MlDsaSigner, verifyMlDsa } from '../../../cluster/providers/mldsa.ts';
import { createZymbitProtector } from '../../../cluster/providers/zymbit.ts';

/** A wire-protocol fake of the Zymbit device service's wrap/unwrap endpoints. */
let server: Server;
let endpoint: string;
const slotKey = randomBytes(32);
beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== 'Bearer device-token') return reply(401, {});
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { keySlot: number; plaintext?: string; ciphertext?: string; aad: string };
      if (body.keySlot !== 3) return reply(404, {});
      const aad = Buffer.from(body.aad, 'base64');
      if (req.url === '/v1/wrap') {
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', slotKey, iv).setAAD(aad);
        return reply(200, { ciphertext: Buffer.concat([iv, c.update(Buffer.from(body.plaintext!, 'base64')), c.final(), c.getAuthTag()]).toString('base64') });
      }
      try {
        const ct = Buffer.from(body.ciphertext!, 'base64');
        const d = createDecipheriv('aes-256-gcm', slotKey, ct.subarray(0, 12)).setAAD(aad);
        d.setAuthTag(ct.subarray(ct.length - 16));
        return reply(200, { plaintext: Buffer.concat([d.update(ct.subarray(12, ct.length - 16)), d.final()]).toString('base64') });
      } catch {
        return reply(400, {});
      }
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const aad = new TextEncoder().encode('node-1/k/eddsa-ed25519/0');

describe('zymbit provider against a local wire-protocol fake of the device service', () => {
  it('wraps and unwraps bound to the binding; refuses another binding and a wrong token', async () => {
    const p = createZymbitProtector({ type: 'zymbit', endpoint, keySlot: 3, tokenEnv: 'T', timeoutMs: 2000 }, { T: 'device-token' });
    const w = await p.wrapKey(new Uint8Array(32).fill(4), aad);
    expect(Buffer.from(await p.unwrapKey(w, aad))).toEqual(Buffer.alloc(32, 4));
    await expect(p.unwrapKey(w, new TextEncoder().encode('node-9/k/eddsa-ed25519/0'))).rejects.toMatchObject({ code: 'unwrap_failed' });
    const wrong = createZymbitProtector({ type: 'zymbit', endpoint, keySlot: 3, tokenEnv: 'T', timeoutMs: 2000 }, { T: 'nope' });
    await expect(wrong.wrapKey(new Uint8Array(32), aad)).rejects.toMatchObject({ code: 'auth_failed' });
  });

  it('requires TLS for an endpoint that is not on this host', () => {
    expect(() => createZymbitProtector({ type: 'zymbit', endpoint: 'http://10.0.0.5:6789', keySlot: 0, tokenEnv: 'T', timeoutMs: 1000 }, { T: 'x' })).toThrow(/must use https/);
    expect(() => createZymbitProtector({ type: 'zymbit', endpoint: 'https://10.0.0.5:6789', keySlot: 0, tokenEnv: 'T', timeoutMs: 1000 }, { T: 'x' })).not.toThrow();
  });
});

describe('mldsa identity signer (ML-DSA-65, FIPS 204)', () => {
  it('signs and verifies; its secret key is sealed by the protector and reloads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mldsa-'));
    try {
      const protector = await createLocalProtector({ type: 'local', keyFile: join(dir, 'kek') });
      const signer = await MlDsaSigner.create(join(dir, 'mldsa.json'), 'node-1', protector);
      const msg = new TextEncoder().encode('envelope bytes');
      const sig = await signer.sign(msg);
      expect(sig.length).toBe(3309);
      expect((await signer.publicKey()).length).toBe(1952);
      expect(await signer.verify(msg, sig)).toBe(true);
      expect(verifyMlDsa(await signer.publicKey(), new TextEncoder().encode('other'), sig)).toBe(false);
      const reloaded = await MlDsaSigner.load(join(dir, 'mldsa.json'), 'node-1', protector);
      expect(await reloaded.verify(msg, await reloaded.sign(msg))).toBe(true);
      expect(await readFile(join(dir, 'mldsa.json'), 'utf8')).not.toContain('PRIVATE');
      await expect(MlDsaSigner.load(join(dir, 'mldsa.json'), 'node-2', protector)).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the verifier agrees with Wycheproof ML-DSA-65 verification vectors', async () => {
    const file = JSON.parse(await readFile(new URL('../../../../shared/vectors/wycheproof/mldsa_65_verify_test.json', import.meta.url), 'utf8')) as {
      testGroups: { publicKey: string; tests: { tcId: number; msg: string; sig: string; result: string; ctx?: string }[] }[];
    };
    let checked = 0;
    for (const g of file.testGroups) {
      const pk = Buffer.from(g.publicKey, 'hex');
      for (const t of g.tests) {
        if (t.ctx || pk.length !== 1952) continue; // our identities sign with the empty context
        const ok = verifyMlDsa(pk, Buffer.from(t.msg, 'hex'), Buffer.from(t.sig, 'hex'));
        expect(ok, `tcId ${t.tcId}`).toBe(t.result === 'valid');
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
