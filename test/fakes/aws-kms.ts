/**
 * A wire-protocol fake of AWS KMS: the AWS JSON 1.1 `TrentService.Encrypt`/`Decrypt` subset the
 * aws provider uses, served on 127.0.0.1. It insists on a SigV4 Authorization header (so the
 * real SDK's signing path runs), binds ciphertexts to the key id and the EncryptionContext as
 * KMS does, and can answer ThrottlingException to exercise the SDK's retries.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeKms {
  readonly endpoint: string;
  readonly requests: { target: string; authorization: string }[];
  /** The next `n` requests are answered with ThrottlingException. */
  throttleNext(n: number): void;
  close(): Promise<void>;
}

const canonicalContext = (ctx: Record<string, string> | undefined) =>
  JSON.stringify(Object.entries(ctx ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)));

export async function startFakeKms(keyIds: string[]): Promise<FakeKms> {
  const keys = new Map(keyIds.map((id) => [id, randomBytes(32)]));
  const requests: FakeKms['requests'] = [];
  let throttle = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const authorization = String(req.headers.authorization ?? '');
      requests.push({ target, authorization });
      const reply = (status: number, body: unknown, errorType?: string) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
        res.end(JSON.stringify(body));
      };
      const error = (type: string, message: string) => reply(400, { __type: type, message }, type);
      if (!authorization.startsWith('AWS4-HMAC-SHA256 Credential=')) return error('MissingAuthenticationTokenException', 'SigV4 signature required');
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1') return error('SerializationException', 'wrong content type');
      if (throttle > 0) {
        throttle--;
        return error('ThrottlingException', 'Rate exceeded');
      }
      let body: { KeyId?: string; Plaintext?: string; CiphertextBlob?: string; EncryptionContext?: Record<string, string> };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return error('SerializationException', 'bad JSON');
      }
      const aad = Buffer.from(canonicalContext(body.EncryptionContext));
      if (target === 'TrentService.Encrypt') {
        const key = keys.get(body.KeyId ?? '');
        if (!key) return error('NotFoundException', `key ${body.KeyId} not found`);
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', key, iv);
        c.setAAD(aad);
        const ct = Buffer.concat([c.update(Buffer.from(body.Plaintext ?? '', 'base64')), c.final(), c.getAuthTag()]);
        const idBytes = Buffer.from(body.KeyId!);
        const blob = Buffer.concat([Buffer.from([idBytes.length]), idBytes, iv, ct]);
        return reply(200, { CiphertextBlob: blob.toString('base64'), KeyId: body.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
      }
      if (target === 'TrentService.Decrypt') {
        const blob = Buffer.from(body.CiphertextBlob ?? '', 'base64');
        const keyId = blob.subarray(1, 1 + (blob[0] ?? 0)).toString();
        const key = keys.get(keyId);
        if (!key || (body.KeyId && body.KeyId !== keyId)) return error('IncorrectKeyException', 'wrong key');
        try {
          const rest = blob.subarray(1 + blob[0]!);
          const d = createDecipheriv('aes-256-gcm', key, rest.subarray(0, 12));
          d.setAAD(aad);
          d.setAuthTag(rest.subarray(rest.length - 16));
          const pt = Buffer.concat([d.update(rest.subarray(12, rest.length - 16)), d.final()]);
          return reply(200, { Plaintext: pt.toString('base64'), KeyId: keyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
        } catch {
          return error('InvalidCiphertextException', 'invalid ciphertext');
        }
      }
      return error('UnknownOperationException', target);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    throttleNext: (n) => {
      throttle = n;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
