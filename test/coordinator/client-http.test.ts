/**
 * The typed client's own HTTP transport (client/http.ts): node:http with a kept-alive connection,
 * HTTPS to a coordinator whose certificate a private CA issued, and the answers the client reads
 * headers from (Retry-After, X-Request-Id) as they arrive over it, not through a test's fetch.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MpcApiError, MpcClient } from 'mpc-signer/client';
import { createApiServer, type ApiServer } from '../../coordinator/api/server.ts';
import type { KeyInfo, SigningService } from '../../coordinator/service.ts';

const TOKEN = 'client-http-token-' + 'q'.repeat(24);
const KEY: KeyInfo = { id: 'k1', scheme: 'eddsa-ed25519', threshold: 2, nodes: [1, 2, 3], publicKey: 'aa'.repeat(32), chainCode: 'bb'.repeat(32), createdAt: '2026-01-01T00:00:00Z' };
const service = {
  health: () => ({ status: 'ok' as const, nodes: [] }),
  createKey: async () => KEY,
  listKeys: async () => ({ keys: [KEY] }),
  getKey: async (id: string) => (id === 'k1' ? KEY : undefined),
  sign: async () => ({ signature: 'cc'.repeat(64), publicKey: KEY.publicKey, signers: [1, 2] }),
  destroyKey: async () => undefined,
} satisfies SigningService;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A plain server answering each request with `answer`, counting the connections it accepted. */
async function stubServer(answer: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => answer(req, body, res));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())), () => void server.closeAllConnections());
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('the typed client over node:http', () => {
  it('sends the body, token and request id, and reuses one connection for requests one after another', async () => {
    const seen: { method: string; url: string; auth: string | undefined; id: string | undefined; body: string }[] = [];
    const stub = await stubServer((req, body, res) => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, id: req.headers['x-request-id'] as string | undefined, body });
      json(res, 200, { signature: 'cc'.repeat(64), publicKey: KEY.publicKey, signers: [1, 2] });
    });
    const client = new MpcClient({ baseUrl: stub.url, token: TOKEN });
    cleanups.push(() => client.close());
    for (let i = 0; i < 3; i++) await client.sign('k1', { message: 'ab'.repeat(i + 1) }, { requestId: `r${i}` });
    expect(seen.map((s) => [s.method, s.url, s.auth, s.id, JSON.parse(s.body)])).toEqual([0, 1, 2].map((i) => ['POST', '/v1/keys/k1/sign', `Bearer ${TOKEN}`, `r${i}`, { message: 'ab'.repeat(i + 1) }]));
    expect(stub.connections()).toBe(1);
  });

  it('reads Retry-After to wait and retry, and X-Request-Id and the error code from an error answer', async () => {
    let calls = 0;
    const stub = await stubServer((req, _body, res) => {
      calls++;
      if (calls === 1) return json(res, 503, { error: { code: 'quorum_unavailable', message: 'two nodes offline' } }, { 'retry-after': '0' });
      json(res, 404, { error: { code: 'key_not_found', message: 'no key nope' } }, { 'x-request-id': 'server-said-this' });
    });
    const client = new MpcClient({ baseUrl: stub.url, token: TOKEN, retries: 2 });
    cleanups.push(() => client.close());
    const error = await client.getKey('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MpcApiError);
    expect(error).toMatchObject({ status: 404, code: 'key_not_found', message: 'no key nope', requestId: 'server-said-this' });
    expect(calls).toBe(2);
  });

  it('speaks HTTPS to a coordinator whose certificate a private CA issued, given that CA (`ca`), and refuses it without', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'client-tls-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const api: ApiServer = await createApiServer({ service, port: 0, tokens: [{ token: TOKEN, scopes: ['keys:read'] }], tls: { cert: await readFile(cert), key: await readFile(key) } });
    cleanups.push(() => api.close());
    const trusting = new MpcClient({ baseUrl: `https://127.0.0.1:${api.port}`, token: TOKEN, ca: await readFile(cert, 'utf8') });
    const untrusting = new MpcClient({ baseUrl: `https://127.0.0.1:${api.port}`, token: TOKEN, retries: 0 });
    cleanups.push(() => trusting.close(), () => untrusting.close());
    expect(await trusting.getKey('k1')).toMatchObject({ id: 'k1', publicKey: KEY.publicKey });
    await expect(untrusting.getKey('k1')).rejects.toMatchObject({ status: 0, code: 'unreachable', message: expect.stringMatching(/self-signed certificate/) });
  });
});
