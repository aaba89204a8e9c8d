/**
 * The coordinator's HTTP + WebSocket API server (the contract in the README): bearer tokens
 * with scopes, `{"error":{"code","message"}}` errors with no side effects, idempotency keys,
 * per-request deadlines, bounded concurrency, and a WebSocket stream of session events. The
 * routes and their input validation are the table in `routes.ts`; the SigningService does the work.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SessionEvent, SigningService } from '../service.ts';
import { errorResponse, HttpError, isLoopback, parseJson, readBody, send, sha256, type Response } from './http.ts';
import { IdempotencyStore } from './idempotency.ts';
import { matchRoute, type RouteRequest } from './routes.ts';

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

  /** Matches the route, authenticates for its scope, and runs its handler with the request's parts. */
  const handle = async (req: IncomingMessage, requestId: string): Promise<Response> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const { route, keyId } = matchRoute(method, path);
    const principal = route.scope ? authenticate(req.headers.authorization, route.scope) : undefined;
    let raw: Buffer | undefined;
    const request: RouteRequest = {
      service: opts.service,
      keyId,
      json: async () => parseJson((raw ??= await readBody(req, limits.maxBodyBytes))),
      context: () => ({ deadline: deadlineOf(req), requestId, emit: principal ? emitter(requestId, principal.owner) : () => undefined }),
      guarded,
      ready: () => (opts.ready ? opts.ready() : opts.service.health().nodes.some((n) => n.online)),
      idempotent: async (run) => {
        const idemKey = req.headers['idempotency-key'];
        if (typeof idemKey !== 'string' || !principal) return run();
        if (idemKey.length === 0 || idemKey.length > 256) throw new HttpError(400, 'invalid_request', 'Idempotency-Key must be 1..256 characters');
        const scope = IdempotencyStore.scope(principal.owner, method, path, idemKey);
        // Errors are answers, not outcomes: they are returned but not kept (see idempotency.ts).
        const outcome = await idempotency.once(scope, sha256(raw ?? Buffer.alloc(0)).toString('hex'), () => run().catch((e: unknown) => errorResponse(e)));
        switch (outcome.kind) {
          case 'response':
            return outcome.response;
          case 'conflict':
            throw new HttpError(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different body');
          case 'unknown_outcome':
            throw new HttpError(409, 'idempotency_outcome_unknown', 'the first request with this Idempotency-Key was interrupted (coordinator restart); its outcome is unknown, use a new key');
        }
      },
    };
    return route.handle(request);
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
      .then(({ status, body, headers }: Response) => {
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
