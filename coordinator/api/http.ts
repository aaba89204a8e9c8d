/**
 * HTTP plumbing of the API: typed errors and the `{"error":{"code","message"}}` body they
 * become, and the codes schema violations get.
 */
import { createHash } from 'node:crypto';
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
  request_not_found: 404,
  key_disabled: 403,
  policy_denied: 403,
  policy_invalid: 403,
  policy_mismatch: 409,
  overloaded: 429,
  quorum_unavailable: 503,
  deadline_exceeded: 504,
  internal: 500,
};

export function errorResponse(e: unknown): Response {
  if (e instanceof HttpError) return { status: e.status, body: { error: { code: e.code, message: e.message } }, headers: e.headers };
  if (e instanceof ServiceError) {
    // Overload and a missing quorum are worth retrying; say when.
    const retry = e.code === 'overloaded' || e.code === 'quorum_unavailable' ? { headers: { 'retry-after': '1' } } : {};
    return { status: SERVICE_STATUS[e.code], body: { error: { code: e.code, message: e.message } }, ...retry };
  }
  // Never echo an unexpected error: it might carry internal state.
  return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
}

/** Which error code a schema violation gets, by the field it is in (others: invalid_request). */
const FIELD_CODES: Readonly<Record<string, string>> = {
  '/message': 'invalid_hex',
  '/scheme': 'unknown_scheme',
  '/threshold': 'invalid_threshold',
  '/derivationPath': 'invalid_path',
  '/path': 'invalid_path',
};

/** A request that broke its route's schema: 400 with the first problem's field and message. */
export function validationError(issues: readonly { path: string; keyword: string; message: string }[], where: string | undefined): HttpError {
  const first = issues[0];
  if (!first) return new HttpError(400, 'invalid_request', 'invalid request');
  if (where === 'body' && first.path === '/' && first.keyword === 'invalid_type') return new HttpError(400, 'invalid_request', 'the body must be a JSON object');
  const field = first.path === '/' ? '' : first.path;
  const code = FIELD_CODES[field] ?? 'invalid_request';
  return new HttpError(400, code, `${where ?? 'request'}${field ? ` ${field.slice(1).replaceAll('/', '.')}` : ''}: ${first.message}`);
}

export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

export const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest();
