/**
 * A wire-protocol fake of Cloud KMS's REST API (`v1/{name}:encrypt`, `:decrypt`), the
 * transport the official client uses with `fallback: true`. It requires a Bearer token and
 * binds ciphertexts to the key name and additionalAuthenticatedData as Cloud KMS does.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCloudKms {
  readonly port: number;
  readonly requests: { path: string; authorization: string }[];
  close(): Promise<void>;
}

export async function startFakeCloudKms(keyNames: string[]): Promise<FakeCloudKms> {
  const keys = new Map(keyNames.map((k) => [k, randomBytes(32)]));
  const requests: FakeCloudKms['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      requests.push({ path, authorization: String(req.headers.authorization ?? '') });
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const error = (code: number, status: string, message: string) => reply(code, { error: { code, status, message } });
      if (!String(req.headers.authorization ?? '').startsWith('Bearer ')) return error(401, 'UNAUTHENTICATED', 'missing token');
      const m = /^\/v1\/(.+):(encrypt|decrypt)$/.exec(path);
      if (!m || req.method !== 'POST') return error(404, 'NOT_FOUND', 'no such method');
      const [, name, op] = m;
      const key = keys.get(decodeURIComponent(name!));
      if (!key) return error(404, 'NOT_FOUND', `${name} not found`);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { plaintext?: string; ciphertext?: string; additionalAuthenticatedData?: string };
      const aad = Buffer.concat([Buffer.from(name!), Buffer.from(body.additionalAuthenticatedData ?? '', 'base64')]);
      if (op === 'encrypt') {
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', key, iv);
        c.setAAD(aad);
        const ct = Buffer.concat([iv, c.update(Buffer.from(body.plaintext ?? '', 'base64')), c.final(), c.getAuthTag()]);
        return reply(200, { name, ciphertext: ct.toString('base64'), protectionLevel: 'HSM' });
      }
      try {
        const ct = Buffer.from(body.ciphertext ?? '', 'base64');
        const d = createDecipheriv('aes-256-gcm', key, ct.subarray(0, 12));
        d.setAAD(aad);
        d.setAuthTag(ct.subarray(ct.length - 16));
        const pt = Buffer.concat([d.update(ct.subarray(12, ct.length - 16)), d.final()]);
        return reply(200, { plaintext: pt.toString('base64') });
      } catch {
        return error(400, 'INVALID_ARGUMENT', 'Decryption failed: the ciphertext is invalid.');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, requests, close: () => new Promise((r) => server.close(() => r())) };
}
