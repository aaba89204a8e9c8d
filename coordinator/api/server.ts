/**
 * The coordinator's HTTP + WebSocket API (the contract in the README): bearer tokens with
 * scopes, strict JSON input, `{"error":{"code","message"}}` errors with no side effects,
 * idempotency keys, per-request deadlines, bounded concurrency, and a WebSocket stream of
 * session events. It validates and authenticates; the SigningService does the work.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { DerivationError, parsePath } from '../../protocol/derive.ts';
import { SCHEMES, signableMessageProblem, isScheme, type Scheme } from '../../protocol/schemes/index.ts';
import { ServiceError, type SessionEvent, type SigningService } from '../service.ts';
import { IdempotencyStore } from './idempotency.ts';
import { openApiDocument } from './openapi.ts';

export { ALL_SCOPES, type ApiToken, type Scope } from './tokens.ts';
import type { ApiToken, Scope } from './tokens.ts';

export interface ApiLimits {
  /** Largest request body (default 1 MiB; an Ed25519 message of 64 KiB is 128 KiB of hex). */
  readonly maxBodyBytes?: number;
  /** Key generations and signatures in flight before new ones get 429 (default 64). */
  readonly maxInFlight?: number;
  /** Default and maximum request deadline (defaults 30 s and 120 s). */
  readonly defaultTimeoutMs?: number;
  readonly maxTimeoutMs?: number;
}

export interface ApiServerOptions {
  readonly service: SigningService;
  /** Durable idempotency records (the coordinator's data directory); in memory when absent. */
  readonly idempotency?: IdempotencyStore;
  readonly tokens: readonly ApiToken[];
  readonly host?: string;
  readonly port?: number;
  /**
   * Serve HTTPS (TLS 1.3; X25519MLKEM768 preferred for the key exchange). Without it the server
   * refuses to listen anywhere but loopback, unless `allowInsecureHttp` says a proxy in front
   * terminates TLS (bearer tokens would otherwise cross the network in clear).
   */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly allowInsecureHttp?: boolean;
  readonly limits?: ApiLimits;
  /** Prometheus text for `GET /metrics` (unauthenticated, like health). */
  readonly metrics?: () => Promise<string>;
  /** Readiness for `/readyz`; defaults to "every node online or quorum possible". */
  readonly ready?: () => boolean;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

class HttpError extends Error {
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


export interface ApiServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export async function createApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const limits = { maxBodyBytes: 1024 * 1024, maxInFlight: 64, defaultTimeoutMs: 30_000, maxTimeoutMs: 120_000, ...opts.limits };
  const host = opts.host ?? '127.0.0.1';
  if (!opts.tls && !opts.allowInsecureHttp && !isLoopback(host)) {
    throw new Error(`refusing to serve the API over plain HTTP on ${host}: bearer tokens would cross the network in clear; configure http.tls, or set http.allowInsecure when a TLS proxy is in front`);
  }
  const tokenDigests = opts.tokens.map((t) => ({ digest: 'token' in t ? sha256(t.token) : Buffer.from(t.sha256, 'hex'), scopes: new Set(t.scopes) }));
  const idempotency = opts.idempotency ?? (await IdempotencyStore.open(undefined));
  /** Event subscribers: each sees its own token's requests only, unless the token has the admin scope. */
  const subscribers = new Set<{ ws: WebSocket; owner: string; admin: boolean; requestId?: string }>();
  let inFlight = 0;

  const emitter = (requestId: string, owner: string) => (event: SessionEvent) => {
    const line = JSON.stringify({ requestId, ...event });
    for (const s of subscribers) if ((s.admin || s.owner === owner) && (!s.requestId || s.requestId === requestId)) s.ws.send(line);
  };

  /** Constant-time token check: compare SHA-256 digests, never the tokens themselves. */
  const authenticate = (header: string | undefined, scope: Scope | undefined): { owner: string; admin: boolean } => {
    const m = /^Bearer (.+)$/.exec(header ?? '');
    if (!m) throw new HttpError(401, 'unauthorized', 'missing bearer token', { 'www-authenticate': 'Bearer' });
    const digest = sha256(m[1]!);
    let match: (typeof tokenDigests)[number] | undefined;
    for (const t of tokenDigests) if (timingSafeEqual(t.digest, digest)) match = t;
    if (!match) throw new HttpError(401, 'unauthorized', 'invalid token', { 'www-authenticate': 'Bearer' });
    if (scope && !match.scopes.has(scope) && !match.scopes.has('admin')) throw new HttpError(403, 'forbidden', `token lacks the ${scope} scope`);
    return { owner: match.digest.toString('hex'), admin: match.scopes.has('admin') };
  };

  const deadlineOf = (req: IncomingMessage): number => {
    const header = req.headers['x-request-timeout-ms'];
    const asked = header === undefined ? limits.defaultTimeoutMs : Number(header);
    if (!Number.isInteger(asked) || asked <= 0) throw new HttpError(400, 'invalid_request', 'X-Request-Timeout-Ms must be a positive integer');
    return Date.now() + Math.min(asked, limits.maxTimeoutMs);
  };

  const handle = async (req: IncomingMessage, requestId: string): Promise<{ status: number; body: unknown }> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const route = matchRoute(method, path);

    if (route.name === 'health') return { status: 200, body: opts.service.health() };
    if (route.name === 'openapi') return { status: 200, body: openApiDocument };
    if (route.name === 'healthz') return { status: 200, body: { status: 'alive' } };
    if (route.name === 'readyz') {
      const ready = opts.ready ? opts.ready() : opts.service.health().nodes.some((n) => n.online);
      return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not_ready' } };
    }

    const principal = authenticate(req.headers.authorization, route.scope);
    const emit = emitter(requestId, principal.owner);
    switch (route.name) {
      case 'listKeys':
        return { status: 200, body: { keys: await opts.service.listKeys() } };
      case 'getKey': {
        const key = await opts.service.getKey(route.keyId!);
        if (!key) throw new HttpError(404, 'key_not_found', `no key ${route.keyId}`);
        return { status: 200, body: key };
      }
      case 'createKey':
      case 'sign': {
        const raw = await readBody(req, limits.maxBodyBytes);
        // Validated before any idempotency record exists: invalid requests leave none behind.
        const body = parseJson(raw);
        const deadline = deadlineOf(req);
        let run: () => Promise<{ status: number; body: unknown }>;
        if (route.name === 'createKey') {
          const request = await validateCreateKey(body, opts.service);
          run = () => guarded(async () => ({ status: 201, body: await opts.service.createKey(request, { deadline, requestId, emit }) }));
        } else {
          const key = await opts.service.getKey(route.keyId!);
          if (!key) throw new HttpError(404, 'key_not_found', `no key ${route.keyId}`);
          const request = validateSign(body, key.scheme);
          run = () => guarded(async () => ({ status: 200, body: await opts.service.sign(key.id, request, { deadline, requestId, emit }) }));
        }
        const idemKey = req.headers['idempotency-key'];
        if (typeof idemKey !== 'string') return run();
        if (idemKey.length === 0 || idemKey.length > 256) throw new HttpError(400, 'invalid_request', 'Idempotency-Key must be 1..256 characters');
        const scope = IdempotencyStore.scope(principal.owner, method, path, idemKey);
        // Errors are answers, not outcomes: they are returned but not kept (see idempotency.ts).
        const outcome = await idempotency.once(scope, sha256(raw).toString('hex'), () => run().catch((e: unknown) => errorResponse(e)));
        switch (outcome.kind) {
          case 'response':
            return outcome.response;
          case 'conflict':
            throw new HttpError(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different body');
          case 'unknown_outcome':
            throw new HttpError(409, 'idempotency_outcome_unknown', 'the first request with this Idempotency-Key was interrupted (coordinator restart); its outcome is unknown, use a new key');
        }
      }
      case 'disable':
      case 'enable': {
        if (!opts.service.setKeyStatus) throw new HttpError(400, 'unsupported', 'this service cannot change key status');
        return { status: 200, body: await opts.service.setKeyStatus(route.keyId!, route.name === 'disable' ? 'disabled' : 'active') };
      }
      case 'refresh': {
        if (!opts.service.refreshKey) throw new HttpError(400, 'unsupported', 'this service cannot refresh keys');
        const deadline = deadlineOf(req);
        return { status: 200, body: await guarded(() => opts.service.refreshKey!(route.keyId!, { deadline, requestId, emit })) };
      }
      case 'repair': {
        if (!opts.service.repairKey) throw new HttpError(400, 'unsupported', 'this service cannot repair shares');
        const body = record(parseJson(await readBody(req, limits.maxBodyBytes)), ['node']);
        if (!Number.isInteger(body.node)) throw new HttpError(400, 'invalid_request', 'node must be the id of the node whose share is lost');
        const deadline = deadlineOf(req);
        await guarded(() => opts.service.repairKey!(route.keyId!, body.node as number, { deadline, requestId, emit }));
        return { status: 200, body: { id: route.keyId, repaired: body.node } };
      }
      case 'reshare': {
        if (!opts.service.reshareKey) throw new HttpError(400, 'unsupported', 'this service cannot reshare keys');
        const body = record(parseJson(await readBody(req, limits.maxBodyBytes)), ['nodes', 'threshold']);
        if (!Array.isArray(body.nodes) || body.nodes.some((n) => !Number.isInteger(n))) throw new HttpError(400, 'invalid_request', 'nodes must be an array of node ids');
        if (!Number.isInteger(body.threshold)) throw new HttpError(400, 'invalid_threshold', 'threshold must be an integer');
        const deadline = deadlineOf(req);
        return { status: 200, body: await guarded(() => opts.service.reshareKey!(route.keyId!, { nodes: body.nodes as number[], threshold: body.threshold as number }, { deadline, requestId, emit })) };
      }
      case 'destroy': {
        if (!opts.service.destroyKey) throw new HttpError(400, 'unsupported', 'this service cannot destroy keys');
        const deadline = deadlineOf(req);
        await guarded(() => opts.service.destroyKey!(route.keyId!, { deadline, requestId, emit }));
        return { status: 200, body: { id: route.keyId, destroyed: true } };
      }
      default:
        throw new HttpError(500, 'internal', 'unrouted');
    }
  };

  const guarded = async <T>(f: () => Promise<T>): Promise<T> => {
    if (inFlight >= limits.maxInFlight) throw new HttpError(429, 'overloaded', 'too many requests in flight; retry later', { 'retry-after': '1' });
    inFlight++;
    try {
      return await f();
    } finally {
      inFlight--;
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    const started = Date.now();
    const url = req.url ?? '/';
    if (url === '/metrics' && opts.metrics) {
      opts.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(text);
        },
        () => send(res, 500, { error: { code: 'internal', message: 'metrics unavailable' } }),
      );
      return;
    }
    handle(req, requestId)
      .catch((e: unknown) => errorResponse(e))
      .then(({ status, body, headers }: { status: number; body: unknown; headers?: Record<string, string> }) => {
        send(res, status, body, headers);
        opts.log?.('request', { requestId, method: req.method, path: url.split('?')[0], status, ms: Date.now() - started });
      });
  };
  const server: Server = opts.tls
    ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.3', ecdhCurve: 'X25519MLKEM768:X25519:P-256' }, onRequest)
    : createServer(onRequest);
  server.requestTimeout = limits.maxTimeoutMs + 10_000;

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let principal: { owner: string; admin: boolean };
    try {
      if (url.pathname !== '/v1/events') throw new HttpError(404, 'not_found', 'no such endpoint');
      const token = url.searchParams.get('token');
      principal = authenticate(token ? `Bearer ${token}` : req.headers.authorization, 'keys:read');
    } catch (e) {
      const { status, body } = errorResponse(e);
      socket.end(`HTTP/1.1 ${status} Error\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify(body)}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const filter = url.searchParams.get('requestId');
      const sub = { ws, ...principal, ...(filter ? { requestId: filter } : {}) };
      subscribers.add(sub);
      ws.on('close', () => subscribers.delete(sub));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 7700, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: async () => {
      for (const s of subscribers) s.ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await idempotency.close();
    },
  };
}

interface Route {
  readonly name: 'health' | 'openapi' | 'healthz' | 'readyz' | 'listKeys' | 'getKey' | 'createKey' | 'sign' | 'disable' | 'enable' | 'destroy' | 'refresh' | 'repair' | 'reshare';
  readonly scope?: Scope;
  readonly keyId?: string;
}

function matchRoute(method: string, path: string): Route {
  const allow = (methods: string[], route: Route): Route => {
    if (!methods.includes(method)) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}`, { allow: methods.join(', ') });
    return route;
  };
  if (path === '/v1/health') return allow(['GET'], { name: 'health' });
  if (path === '/v1/openapi.json') return allow(['GET'], { name: 'openapi' });
  if (path === '/healthz') return allow(['GET'], { name: 'healthz' });
  if (path === '/readyz') return allow(['GET'], { name: 'readyz' });
  if (path === '/v1/keys') return method === 'POST' ? { name: 'createKey', scope: 'keys:create' } : allow(['GET', 'POST'], { name: 'listKeys', scope: 'keys:read' });
  const key = /^\/v1\/keys\/([A-Za-z0-9_-]{1,128})(?:\/(sign|disable|enable|refresh|repair|reshare))?$/.exec(path);
  if (key) {
    const keyId = key[1]!;
    if (key[2] === 'sign') return allow(['POST'], { name: 'sign', scope: 'sign', keyId });
    if (key[2] === 'disable' || key[2] === 'enable' || key[2] === 'refresh' || key[2] === 'repair' || key[2] === 'reshare') return allow(['POST'], { name: key[2], scope: 'admin', keyId });
    if (method === 'DELETE') return { name: 'destroy', scope: 'admin', keyId };
    return allow(['GET', 'DELETE'], { name: 'getKey', scope: 'keys:read', keyId });
  }
  throw new HttpError(404, 'not_found', `no route ${path}`);
}

async function validateCreateKey(body: unknown, service: SigningService) {
  const b = record(body, ['scheme', 'threshold', 'nodes']);
  if (!isScheme(b.scheme)) {
    throw new HttpError(400, 'unknown_scheme', `scheme must be one of ${SCHEMES.join(', ')}`);
  }
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

function validateSign(body: unknown, scheme: Scheme) {
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

function record(body: unknown, allowed: string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'invalid_request', 'the body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length) throw new HttpError(400, 'invalid_request', `unknown field(s): ${unknown.join(', ')}`);
  return body as Record<string, unknown>;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not valid JSON');
  }
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
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

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

function errorResponse(e: unknown): { status: number; body: unknown; headers?: Record<string, string> } {
  if (e instanceof HttpError) return { status: e.status, body: { error: { code: e.code, message: e.message } }, headers: e.headers };
  if (e instanceof ServiceError) {
    return { status: SERVICE_STATUS[e.code], body: { error: { code: e.code, message: e.message } }, ...(e.code === 'overloaded' ? { headers: { 'retry-after': '1' } } : {}) };
  }
  // Never echo an unexpected error: it might carry internal state.
  return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();
