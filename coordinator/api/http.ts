/**
 * HTTP plumbing of the API: typed errors and the `{"error":{"code","message"}}` body they
 * become, strict JSON bodies with a size limit, and the response writer.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServiceError } from '../service.ts';

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export interface Response {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

const SERVICE_STATUS: Record<ServiceError['code'], number> = {
  invalid_request: 400,
  unsupported: 400,
  key_not_found: 404,
  key_disabled: 403,
  overloaded: 429,
  quorum_unavailable: 503,
  deadline_exceeded: 504,
  internal: 500,
};

export function errorResponse(e: unknown): Response {
  if (e instanceof HttpError) return { status: e.status, body: { error: { code: e.code, message: e.message } }, headers: e.headers };
  if (e instanceof ServiceError) {
    return { status: SERVICE_STATUS[e.code], body: { error: { code: e.code, message: e.message } }, ...(e.code === 'overloaded' ? { headers: { 'retry-after': '1' } } : {}) };
  }
  // Never echo an unexpected error: it might carry internal state.
  return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** A JSON object with no fields beyond `allowed`. */
export function record(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'invalid_request', 'the body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length) throw new HttpError(400, 'invalid_request', `unknown field(s): ${unknown.join(', ')}`);
  return body as Record<string, unknown>;
}

export function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not valid JSON');
  }
}

export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) {
    req.resume();
    throw new HttpError(413, 'body_too_large', `the body is limited to ${max} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      req.resume();
      throw new HttpError(413, 'body_too_large', `the body is limited to ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

export const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest();
