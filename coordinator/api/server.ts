/**
 * The coordinator's HTTP + WebSocket API server on Fastify (the contract is contract/api.ts):
 * bearer tokens with scopes, `{"error":{"code","message"}}` errors with no side effects,
 * idempotency keys, per-request deadlines, bounded concurrency, and a WebSocket stream of
 * session events. Requests are validated and answers serialised by the contract's zod schemas,
 * and the OpenAPI document is generated from the same schemas.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { ErrorSchema, ROUTES, type RouteContract, type RouteName } from '../../contract/api.ts';
import type { BitcoinNetwork } from '../../protocol/schemes/index.ts';
import type { SessionEvent, SigningService } from '../service.ts';
import { errorResponse, HttpError, isLoopback, sha256, validationError } from './http.ts';
import { IdempotencyStore } from './idempotency.ts';
import { HANDLERS, StatusReply, type RouteRequest } from './routes.ts';

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
  /** Bitcoin network of addresses and extended keys when a request names none (default mainnet). */
  readonly network?: BitcoinNetwork;
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

/** A caller's X-Request-Id is kept when it is a reasonable id; otherwise the server makes one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface Principal {
  readonly owner: string;
  readonly admin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    rawBody?: Buffer;
  }
  interface FastifyContextConfig {
    scope?: Scope;
    routeName?: RouteName;
  }
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
  const authenticate = (header: string | undefined, scope: Scope | undefined): Principal => {
    const m = /^Bearer (.+)$/.exec(header ?? '');
    if (!m) throw new HttpError(401, 'unauthorized', 'missing bearer token', { 'www-authenticate': 'Bearer' });
    const digest = sha256(m[1]!);
    let match: (typeof tokenDigests)[number] | undefined;
    for (const t of tokenDigests) if (timingSafeEqual(t.digest, digest)) match = t;
    if (!match) throw new HttpError(401, 'unauthorized', 'invalid token', { 'www-authenticate': 'Bearer' });
    if (scope && !match.scopes.has(scope) && !match.scopes.has('admin')) throw new HttpError(403, 'forbidden', `token lacks the ${scope} scope`);
    return { owner: match.digest.toString('hex'), admin: match.scopes.has('admin') };
  };

  const deadlineOf = (req: FastifyRequest): number => {
    const header = req.headers['x-request-timeout-ms'];
    const asked = header === undefined ? limits.defaultTimeoutMs : Number(header);
    if (!Number.isInteger(asked) || asked <= 0) throw new HttpError(400, 'invalid_request', 'X-Request-Timeout-Ms must be a positive integer');
    return Date.now() + Math.min(asked, limits.maxTimeoutMs);
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

  const app = Fastify({
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.3' as const, ecdhCurve: 'X25519MLKEM768:X25519:P-256' } } : {}),
    bodyLimit: limits.maxBodyBytes,
    requestTimeout: limits.maxTimeoutMs + 10_000,
    logger: false,
    genReqId: (req: IncomingMessage) => {
      const asked = req.headers['x-request-id'];
      return typeof asked === 'string' && REQUEST_ID.test(asked) ? asked : randomUUID();
    },
    // Paths are matched exactly, as the contract writes them.
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // JSON bodies only, kept raw as well: the idempotency record is keyed by the exact bytes.
  // Fastify's own parser does the parsing (it refuses __proto__ and constructor poisoning).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer;
    if ((body as Buffer).length === 0) return done(null, undefined);
    parseJson(req, (body as Buffer).toString('utf8'), (error, value) => (error ? done(new HttpError(400, 'invalid_json', 'the body is not valid JSON'), undefined) : done(null, value)));
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'mpc-signer coordinator API', version: '2', description:
          'Threshold signing: FROST (Ed25519, BIP340) and DKLs23 ECDSA. Errors are {"error":{"code","message"}}. ' +
          'Session events: WebSocket GET /v1/events (token in ?token= or the Authorization header, optional ?requestId=), one JSON object per message (components.schemas.SessionEvent).',
      },
      servers: [{ url: 'http://127.0.0.1:7700' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'scopes: keys:create, keys:read, sign, admin' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    reply.header('cache-control', 'no-store');
    const scope = req.routeOptions.config.scope;
    if (scope) req.principal = authenticate(req.headers.authorization, scope);
  });
  app.addHook('onResponse', async (req, reply) => {
    opts.log?.('request', { requestId: req.id, method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
  });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    // Fastify closes the connection after a refused body; a client still writing it would see a
    // reset instead of the 413. Discard the rest instead (read, never kept) and answer on an open socket.
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      req.raw.resume();
      reply.removeHeader('connection');
    }
    const { status, body, headers } = errorResponse(translate(error, limits.maxBodyBytes));
    void reply.code(status).headers(headers ?? {}).type('application/json').serializer(JSON.stringify).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = Object.values(ROUTES as Record<string, RouteContract>)
      .filter((r) => pathPattern(r.path).test(path))
      .map((r) => r.method);
    const error = allowed.length ? new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${path}`, { allow: allowed.join(', ') }) : new HttpError(404, 'not_found', `no route ${path}`);
    const { status, body, headers } = errorResponse(error);
    void reply.code(status).headers(headers ?? {}).send(body);
  });

  if (opts.metrics) {
    const metrics = opts.metrics;
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      const text = await metrics().catch(() => undefined);
      if (text === undefined) throw new HttpError(500, 'internal', 'metrics unavailable');
      return reply.type('text/plain; version=0.0.4').send(text);
    });
  }
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  for (const [name, contract] of Object.entries(ROUTES as Record<RouteName, RouteContract>) as [RouteName, RouteContract][]) {
    const errorBodies = Object.fromEntries([...contract.errors, ...(contract.scope ? [401, 403] : [])].map((s) => [s, ErrorSchema]));
    app.route({
      method: contract.method,
      url: contract.path,
      config: { ...(contract.scope ? { scope: contract.scope } : {}), routeName: name },
      schema: {
        summary: contract.summary,
        operationId: name,
        ...(contract.scope ? { security: [{ bearer: [] }] } : {}),
        ...(contract.params ? { params: contract.params } : {}),
        ...(contract.query ? { querystring: contract.query } : {}),
        ...(contract.body ? { body: contract.body } : {}),
        ...(contract.idempotent ? { headers: idempotencyHeaders } : {}),
        response: { [contract.status]: contract.response, ...errorBodies },
      },
      handler: async (req, reply) => {
        const principal = req.principal;
        const request: RouteRequest<RouteName> = {
          service: opts.service,
          params: req.params as never,
          query: req.query as never,
          body: req.body as never,
          network: opts.network ?? 'mainnet',
          context: () => ({ deadline: deadlineOf(req), requestId: req.id, emit: principal ? emitter(req.id, principal.owner) : () => undefined }),
          guarded,
          ready: () => (opts.ready ? opts.ready() : opts.service.health().nodes.some((n) => n.online)),
          idempotent: async (status, run) => {
            const idemKey = req.headers['idempotency-key'];
            if (typeof idemKey !== 'string' || !principal) return new StatusReply(status, await run());
            const scope = IdempotencyStore.scope(principal.owner, req.method, req.url.split('?')[0]!, idemKey);
            // Errors are answers, not outcomes: they are returned but not kept (see idempotency.ts).
            const outcome = await idempotency.once(scope, sha256(req.rawBody ?? Buffer.alloc(0)).toString('hex'), () =>
              run().then(
                (body) => ({ status, body }),
                (e: unknown) => errorResponse(e),
              ),
            );
            switch (outcome.kind) {
              case 'response':
                return new StatusReply(outcome.response.status, outcome.response.body, outcome.response.headers);
              case 'conflict':
                throw new HttpError(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different body');
              case 'unknown_outcome':
                throw new HttpError(409, 'idempotency_outcome_unknown', 'the first request with this Idempotency-Key was interrupted (coordinator restart); its outcome is unknown, use a new key');
            }
          },
        };
        const answer = await (HANDLERS[name] as (r: RouteRequest<RouteName>) => Promise<unknown>)(request);
        if (answer instanceof StatusReply) {
          // Error bodies bypass the route's success serializer (they are ErrorSchema-shaped already).
          if (answer.status >= 400) return reply.code(answer.status).headers(answer.headers).type('application/json').serializer(JSON.stringify).send(answer.body);
          return reply.code(answer.status).send(answer.body);
        }
        return reply.code(contract.status).send(answer);
      },
    });
  }

  await app.ready();
  const server = app.server;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let principal: Principal;
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

  await app.listen({ port: opts.port ?? 7700, host });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: async () => {
      for (const s of subscribers) s.ws.terminate();
      wss.close();
      await app.close();
      server.closeAllConnections();
      await idempotency.close();
    },
  };
}

/** The Idempotency-Key header of routes that take one (documented; checked by the server). */
const idempotencyHeaders = z.object({ 'idempotency-key': z.string().min(1).max(256).optional().describe('retry-safe: the same key and body give the first answer again') }).loose();

/** Fastify's and zod's errors as the API's typed errors. */
function translate(error: FastifyError, maxBodyBytes: number): unknown {
  if (error instanceof HttpError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) return validationError(error.validation.map((v) => ({ path: v.instancePath, keyword: v.keyword, message: v.message ?? '' })), error.validationContext);
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'body_too_large', `the body is limited to ${maxBodyBytes} bytes`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'invalid_json', 'the body is empty');
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return new HttpError(error.statusCode, 'invalid_request', error.message);
  return error;
}

/** `/v1/keys/:id/sign` as a regular expression over concrete paths. */
function pathPattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/:[a-z]+/g, '[^/]+')}$`);
}
