/**
 * API credentials and transport: scoped tokens kept only as digests, a minimum length, HTTPS with
 * the hybrid X25519MLKEM768 key exchange, and no plain HTTP off loopback.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiServer, type ApiServer } from '../../coordinator/api/server.ts';
import { checkTokenStrength, createToken, loadTokensFile } from '../../coordinator/api/tokens.ts';
import type { KeyInfo, SigningService } from '../../coordinator/service.ts';

const KEY: KeyInfo = { id: 'k1', scheme: 'eddsa-ed25519', threshold: 2, nodes: [1, 2, 3], publicKey: 'aa'.repeat(32), chainCode: 'bb'.repeat(32), createdAt: '2026-01-01T00:00:00Z' };
const service = {
  calls: [] as string[],
  health: () => ({ status: 'ok' as const, nodes: [] }),
  createKey: async () => KEY,
  listKeys: async () => ({ keys: [KEY] }),
  getKey: async (id: string) => (id === 'k1' ? KEY : undefined),
  sign: async () => ({ signature: 'cc'.repeat(64), publicKey: KEY.publicKey, signers: [1, 2] }),
  destroyKey: async (id: string) => void service.calls.push(`destroy ${id}`),
} satisfies SigningService & { calls: string[] };

let dir: string;
let api: ApiServer | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'creds-'));
});
afterEach(async () => {
  await api?.close();
  api = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('API credentials', () => {
  it('scoped tokens from a tokens file: stored as digests only, a signing token signs and cannot destroy, an admin token can', async () => {
    const file = join(dir, 'tokens.json');
    const signer = await createToken(file, 'wallet-backend', ['sign', 'keys:read']);
    const admin = await createToken(file, 'operator', ['admin']);
    await expect(createToken(file, 'operator', ['sign'])).rejects.toThrow(/already exists/);
    const stored = await readFile(file, 'utf8');
    expect(stored).not.toContain(signer);
    expect(stored).not.toContain(admin);
    api = await createApiServer({ service, port: 0, tokens: await loadTokensFile(file) });
    const call = (method: string, path: string, token: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${api!.port}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    expect((await call('POST', '/v1/keys/k1/sign', signer, { message: '00' })).status).toBe(200);
    const refused = await call('DELETE', '/v1/keys/k1', signer);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    expect(service.calls).toEqual([]);
    expect((await call('DELETE', '/v1/keys/k1', admin)).status).toBe(200);
    expect(service.calls).toEqual(['destroy k1']);
  });

  it('refuses tokens shorter than 32 characters and a tokens file with a bad entry, naming it', async () => {
    expect(() => checkTokenStrength('short-token', 'MPC_API_TOKEN')).toThrow(/MPC_API_TOKEN: an API token must have at least 32 characters/);
    expect(checkTokenStrength('x'.repeat(32), 'MPC_API_TOKEN')).toBe('x'.repeat(32));
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ tokens: [{ name: 'a', sha256: 'nothex', scopes: ['sign'] }] }));
    await expect(loadTokensFile(file)).rejects.toThrow(/tokens\.0\.sha256/);
  });

  it('serves HTTPS with the X25519MLKEM768 key exchange, and refuses plain HTTP on a non-loopback address', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const token = 'tls-test-token-' + 'z'.repeat(24);
    const ca = await readFile(cert);
    api = await createApiServer({ service, port: 0, tokens: [{ token, scopes: ['keys:read'] }], tls: { cert: await readFile(cert), key: await readFile(key) } });
    const { status, group } = await new Promise<{ status: number; group: string | undefined }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: api!.port, path: '/v1/keys', headers: { authorization: `Bearer ${token}` }, ca, ecdhCurve: 'X25519MLKEM768' }, (res) => {
        const info = (res.socket as TLSSocket).getEphemeralKeyInfo() as { name?: string };
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, group: info.name }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(group).toBe('X25519MLKEM768');
    await expect(createApiServer({ service, port: 0, host: '0.0.0.0', tokens: [{ token, scopes: ['admin'] }] })).rejects.toThrow(/refusing to serve the API over plain HTTP on 0\.0\.0\.0/);
  });
});
