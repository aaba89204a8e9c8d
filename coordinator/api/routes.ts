/**
 * The API's routes as one table: method, path, the scope a token needs (none: public), and the
 * handler. Handlers validate their input (strict fields, typed codes) and call the
 * SigningService; `server.ts` does authentication, deadlines, limits and idempotency around them.
 */
import { DerivationError, parsePath } from '../../protocol/derive.ts';
import { isScheme, SCHEMES, signableMessageProblem, type Scheme } from '../../protocol/schemes/index.ts';
import type { CreateKeyRequest, RequestContext, SignRequest, SigningService } from '../service.ts';
import { HttpError, record, type Response } from './http.ts';
import { openApiDocument } from './openapi.ts';
import type { Scope } from './tokens.ts';

export type Method = 'GET' | 'POST' | 'DELETE';

/** What a handler gets: the service, the path's key id, and the request's parts on demand. */
export interface RouteRequest {
  readonly service: SigningService;
  /** The `:id` of `/v1/keys/:id/...` paths. */
  readonly keyId: string;
  /** The JSON body (read, size-checked and parsed on first use). */
  json(): Promise<unknown>;
  /** The request context: deadline from X-Request-Timeout-Ms, request id, event emitter. */
  context(): RequestContext;
  /** Runs a key generation or signature within the in-flight limit (429 beyond it). */
  guarded<T>(f: () => Promise<T>): Promise<T>;
  /** Runs `f` once per Idempotency-Key (when the client sent one), after validation. */
  idempotent(run: () => Promise<Response>): Promise<Response>;
  /** The readiness rule the server was configured with. */
  ready(): boolean;
}

export interface Route {
  readonly method: Method;
  readonly path: string;
  /** Needed token scope; routes without one are public (health, readiness, the contract). */
  readonly scope?: Scope;
  handle(r: RouteRequest): Promise<Response>;
}

const ok = (body: unknown, status = 200): Response => ({ status, body });

/** The lifecycle methods are optional on a SigningService; a route whose method is missing answers 400 unsupported. */
function capability<K extends keyof SigningService>(service: SigningService, method: K, what: string): NonNullable<SigningService[K]> {
  const f = service[method];
  if (!f) throw new HttpError(400, 'unsupported', `this service cannot ${what}`);
  return (f as (...args: never[]) => unknown).bind(service) as NonNullable<SigningService[K]>;
}

export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/healthz', handle: async () => ok({ status: 'alive' }) },
  {
    method: 'GET',
    path: '/readyz',
    handle: async (r) => {
      const ready = r.ready();
      return ok({ status: ready ? 'ready' : 'not_ready' }, ready ? 200 : 503);
    },
  },
  { method: 'GET', path: '/v1/health', handle: async (r) => ok(r.service.health()) },
  { method: 'GET', path: '/v1/openapi.json', handle: async () => ok(openApiDocument) },
  { method: 'GET', path: '/v1/keys', scope: 'keys:read', handle: async (r) => ok({ keys: await r.service.listKeys() }) },
  {
    method: 'POST',
    path: '/v1/keys',
    scope: 'keys:create',
    handle: async (r) => {
      // Validated before any idempotency record exists: invalid requests leave none behind.
      const body = await r.json();
      const context = r.context();
      const request = validateCreateKey(body, r.service);
      return r.idempotent(() => r.guarded(async () => ok(await r.service.createKey(request, context), 201)));
    },
  },
  {
    method: 'GET',
    path: '/v1/keys/:id',
    scope: 'keys:read',
    handle: async (r) => {
      const key = await r.service.getKey(r.keyId);
      if (!key) throw new HttpError(404, 'key_not_found', `no key ${r.keyId}`);
      return ok(key);
    },
  },
  {
    method: 'POST',
    path: '/v1/keys/:id/sign',
    scope: 'sign',
    handle: async (r) => {
      const body = await r.json();
      const context = r.context();
      const key = await r.service.getKey(r.keyId);
      if (!key) throw new HttpError(404, 'key_not_found', `no key ${r.keyId}`);
      const request = validateSign(body, key.scheme);
      return r.idempotent(() => r.guarded(async () => ok(await r.service.sign(key.id, request, context))));
    },
  },
  { method: 'POST', path: '/v1/keys/:id/disable', scope: 'admin', handle: async (r) => ok(await capability(r.service, 'setKeyStatus', 'change key status')(r.keyId, 'disabled')) },
  { method: 'POST', path: '/v1/keys/:id/enable', scope: 'admin', handle: async (r) => ok(await capability(r.service, 'setKeyStatus', 'change key status')(r.keyId, 'active')) },
  {
    method: 'POST',
    path: '/v1/keys/:id/refresh',
    scope: 'admin',
    handle: async (r) => {
      const refresh = capability(r.service, 'refreshKey', 'refresh keys');
      const context = r.context();
      return ok(await r.guarded(() => refresh(r.keyId, context)));
    },
  },
  {
    method: 'POST',
    path: '/v1/keys/:id/repair',
    scope: 'admin',
    handle: async (r) => {
      const repair = capability(r.service, 'repairKey', 'repair shares');
      const body = record(await r.json(), ['node']);
      if (!Number.isInteger(body.node)) throw new HttpError(400, 'invalid_request', 'node must be the id of the node whose share is lost');
      const context = r.context();
      await r.guarded(() => repair(r.keyId, body.node as number, context));
      return ok({ id: r.keyId, repaired: body.node });
    },
  },
  {
    method: 'POST',
    path: '/v1/keys/:id/reshare',
    scope: 'admin',
    handle: async (r) => {
      const reshare = capability(r.service, 'reshareKey', 'reshare keys');
      const body = record(await r.json(), ['nodes', 'threshold']);
      if (!Array.isArray(body.nodes) || body.nodes.some((n) => !Number.isInteger(n))) throw new HttpError(400, 'invalid_request', 'nodes must be an array of node ids');
      if (!Number.isInteger(body.threshold)) throw new HttpError(400, 'invalid_threshold', 'threshold must be an integer');
      const context = r.context();
      return ok(await r.guarded(() => reshare(r.keyId, { nodes: body.nodes as number[], threshold: body.threshold as number }, context)));
    },
  },
  {
    method: 'DELETE',
    path: '/v1/keys/:id',
    scope: 'admin',
    handle: async (r) => {
      const destroy = capability(r.service, 'destroyKey', 'destroy keys');
      const context = r.context();
      await r.guarded(() => destroy(r.keyId, context));
      return ok({ id: r.keyId, destroyed: true });
    },
  },
];

const KEY_ID = '([A-Za-z0-9_-]{1,128})';
const compiled = ROUTES.map((route) => ({ route, pattern: new RegExp(`^${route.path.replace(':id', KEY_ID)}$`) }));

/** The route for `method` and `path`, with its key id; 404 for an unknown path, 405 (with Allow) for a known path's other methods. */
export function matchRoute(method: string, path: string): { route: Route; keyId: string } {
  const allowed: string[] = [];
  for (const { route, pattern } of compiled) {
    const m = pattern.exec(path);
    if (!m) continue;
    if (route.method === method) return { route, keyId: m[1] ?? '' };
    allowed.push(route.method);
  }
  if (allowed.length) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}`, { allow: allowed.join(', ') });
  throw new HttpError(404, 'not_found', `no route ${path}`);
}

function validateCreateKey(body: unknown, service: SigningService): CreateKeyRequest {
  const b = record(body, ['scheme', 'threshold', 'nodes']);
  if (!isScheme(b.scheme)) throw new HttpError(400, 'unknown_scheme', `scheme must be one of ${SCHEMES.join(', ')}`);
  const cluster = service.health().nodes.map((n) => n.id);
  let nodes: number[] | undefined;
  if (b.nodes !== undefined) {
    if (!Array.isArray(b.nodes) || b.nodes.length < 2 || b.nodes.some((n) => !Number.isInteger(n))) throw new HttpError(400, 'invalid_request', 'nodes must be an array of at least 2 node ids');
    nodes = b.nodes as number[];
    if (new Set(nodes).size !== nodes.length) throw new HttpError(400, 'invalid_request', 'nodes must not repeat');
    const unknown = nodes.filter((n) => !cluster.includes(n));
    if (unknown.length) throw new HttpError(400, 'unknown_node', `no node ${unknown.join(', ')} in this cluster`);
  }
  const n = nodes?.length ?? cluster.length;
  if (b.threshold !== undefined && (!Number.isInteger(b.threshold) || (b.threshold as number) < 2 || (b.threshold as number) > n)) {
    throw new HttpError(400, 'invalid_threshold', `threshold must be an integer in [2, ${n}]`);
  }
  return { scheme: b.scheme, ...(b.threshold !== undefined ? { threshold: b.threshold as number } : {}), ...(nodes ? { nodes } : {}) };
}

function validateSign(body: unknown, scheme: Scheme): SignRequest {
  const b = record(body, ['message', 'derivationPath']);
  if (typeof b.message !== 'string' || b.message.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(b.message)) {
    throw new HttpError(400, 'invalid_hex', 'message must be an even-length hex string');
  }
  const message = Buffer.from(b.message, 'hex');
  const problem = signableMessageProblem(scheme, message);
  if (problem) throw new HttpError(400, 'invalid_message_length', problem);
  let derivationPath: string | undefined;
  if (b.derivationPath !== undefined) {
    if (typeof b.derivationPath !== 'string') throw new HttpError(400, 'invalid_path', 'derivationPath must be a string like m/0/1');
    try {
      parsePath(b.derivationPath);
    } catch (e) {
      const hardened = e instanceof DerivationError && e.code === 'hardened';
      throw new HttpError(400, hardened ? 'unsupported' : 'invalid_path', (e as Error).message);
    }
    derivationPath = b.derivationPath;
  }
  return { message: new Uint8Array(message), ...(derivationPath ? { derivationPath } : {}) };
}
