/**
 * A wire-protocol fake of Azure Key Vault's keys REST API over HTTPS (self-signed, on
 * 127.0.0.1): the bearer challenge (401 + WWW-Authenticate), GET key, wrapkey and unwrapkey
 * with RSA-OAEP-256, as the official SDK speaks them.
 */
import { execFileSync } from 'node:child_process';
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeKeyVault {
  readonly url: string;
  readonly keyId: (name: string) => string;
  readonly requests: { method: string; path: string; authorization: string }[];
  close(): Promise<void>;
}

export async function startFakeKeyVault(keyNames: string[]): Promise<FakeKeyVault> {
  const dir = mkdtempSync(join(tmpdir(), 'kv-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=127.0.0.1', '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  rmSync(dir, { recursive: true, force: true });
  const keys = new Map(keyNames.map((n) => [n, generateKeyPairSync('rsa', { modulusLength: 2048 })]));
  const requests: FakeKeyVault['requests'] = [];
  let base = '';
  const server: Server = createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const authorization = String(req.headers.authorization ?? '');
      requests.push({ method: req.method ?? '', path, authorization });
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (!authorization.startsWith('Bearer ')) {
        return reply(401, { error: { code: 'Unauthorized', message: 'token required' } }, {
          'www-authenticate': 'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"',
        });
      }
      const m = /^\/keys\/([^/]+)\/([^/]+)(?:\/(wrapkey|unwrapkey))?$/.exec(path);
      const pair = m && keys.get(m[1]!);
      if (!m || !pair) return reply(404, { error: { code: 'KeyNotFound', message: 'no such key' } });
      const kid = `${base}/keys/${m[1]}/${m[2]}`;
      if (!m[3] && req.method === 'GET') {
        const jwk = pair.publicKey.export({ format: 'jwk' });
        return reply(200, { key: { kid, kty: 'RSA', key_ops: ['wrapKey', 'unwrapKey'], n: jwk.n, e: jwk.e }, attributes: { enabled: true } });
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { alg?: string; value?: string };
      if (body.alg !== 'RSA-OAEP-256') return reply(400, { error: { code: 'BadParameter', message: 'unsupported alg' } });
      const value = Buffer.from(body.value ?? '', 'base64url');
      const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
      try {
        const out =
          m[3] === 'wrapkey'
            ? publicEncrypt({ key: pair.publicKey, ...oaep }, value)
            : privateDecrypt({ key: pair.privateKey, ...oaep }, value);
        return reply(200, { kid, value: out.toString('base64url') });
      } catch {
        return reply(400, { error: { code: 'BadParameter', message: 'decryption failed' } });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: base, keyId: (name) => `${base}/keys/${name}/0123456789abcdef`, requests, close: () => new Promise((r) => server.close(() => r())) };
}
