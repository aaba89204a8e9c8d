/**
 * The typed client of the coordinator API (`import { MpcClient } from 'mpc-signer/client'`).
 * Every route of contract/api.ts as a method with the contract's types, errors as `MpcApiError`
 * carrying the API's error code, retries that are safe (an `Idempotency-Key` made once per call
 * and sent with every attempt; only answers that say nothing was done are retried otherwise),
 * and the WebSocket event stream as an async iterator.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { ChildKey, CreateKeyBody, Health, Key, KeyPage, PendingRequest, PolicyProposal, PolicyView, Receipt, SessionEventMessage, SignBody, SignResult } from '../contract/api.ts';
import { receiptSignatureVerifies } from '../contract/receipt.ts';
import type { BitcoinNetwork } from '../protocol/schemes/index.ts';
import { fetchExchange, nodeExchange, type HttpExchange } from './http.ts';

export type { ApprovalRequest, ChildKey, CreateKeyBody, Health, Key, KeyPage, PendingRequest, PolicyProposal, PolicyView, Receipt, SessionEventMessage, SignBody, SignResult } from '../contract/api.ts';
export type { Policy } from '../contract/policy.ts';

/** An error answer of the API, or a failure to reach it (`status` 0, code `unreachable`). */
export class MpcApiError extends Error {
  override readonly name = 'MpcApiError';
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The API's stable error code (`key_not_found`, `quorum_unavailable`, ...). */
  readonly code: string;
  /** The X-Request-Id of the request, to find it in the coordinator's log. */
  readonly requestId: string | undefined;
  /** Seconds the server asked to wait before a retry. */
  readonly retryAfter: number | undefined;
  constructor(status: number, code: string, message: string, requestId?: string, retryAfter?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }
}

export interface MpcClientOptions {
  /** e.g. http://127.0.0.1:7700 */
  readonly baseUrl: string;
  /** Bearer token (scopes decide what it may do). */
  readonly token: string;
  /** Attempts beyond the first for retryable failures (default 3). */
  readonly retries?: number;
  /** Longest wait between attempts, whatever Retry-After says (default 5000 ms). */
  readonly maxBackoffMs?: number;
  /** Sent as X-Request-Timeout-Ms: how long the server may work on one request. */
  readonly timeoutMs?: number;
  /** Trust anchors (PEM) for an `https:` coordinator whose certificate a private CA issued. */
  readonly ca?: string | Uint8Array;
  /**
   * Sends requests through this `fetch` (tests that record answers, proxies) instead of
   * `node:http`/`node:https` with a keep-alive agent, which costs a third of the CPU per request.
   */
  readonly fetch?: typeof fetch;
  /**
   * Send an Idempotency-Key with each key creation and signature (default true). Off only for
   * load generators that measure the signing path alone: without a key, a request that got no
   * answer is not sent again.
   */
  readonly idempotencyKeys?: boolean;
}

export interface CallOptions {
  /** Overrides the client's X-Request-Timeout-Ms for this call. */
  readonly timeoutMs?: number;
  /** Overrides the Idempotency-Key the client would make (to retry across processes). */
  readonly idempotencyKey?: string;
  /** Sent as X-Request-Id (kept by the server and logged); one is made otherwise. */
  readonly requestId?: string;
}

type Method = 'GET' | 'POST' | 'DELETE';

/**
 * Answers that say the request was not carried out, so repeating it is safe even without an
 * idempotency key: overload and a missing quorum (the engine refuses before starting anything).
 */
const NOT_DONE = new Set([429, 503]);

export class MpcClient {
  private readonly base: string;
  private readonly http: HttpExchange;
  private readonly opts: MpcClientOptions;

  constructor(opts: MpcClientOptions) {
    this.opts = opts;
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.http = opts.fetch ? fetchExchange(opts.fetch) : nodeExchange(new URL(this.base), opts.ca ? { ca: opts.ca } : {});
  }

  /** Closes the client's idle connections (they do not keep the process alive meanwhile). */
  close(): void {
    this.http.close();
  }

  health(): Promise<Health> {
    return this.call('GET', '/v1/health');
  }

  /** Whether enough nodes are online to sign (`/readyz`). */
  async ready(): Promise<boolean> {
    try {
      await this.call('GET', '/readyz', undefined, { retry: false });
      return true;
    } catch (e) {
      if (e instanceof MpcApiError && e.status === 503) return false;
      throw e;
    }
  }

  listKeys(query: { limit?: number; cursor?: string; label?: string; network?: BitcoinNetwork } = {}): Promise<KeyPage> {
    return this.call('GET', `/v1/keys${search(query)}`);
  }

  /** Every key (optionally with `label`), fetching pages as the loop goes. */
  async *keys(query: { label?: string; network?: BitcoinNetwork; pageSize?: number } = {}): AsyncGenerator<Key> {
    let cursor: string | undefined;
    do {
      const page = await this.listKeys({ ...(query.label ? { label: query.label } : {}), ...(query.network ? { network: query.network } : {}), limit: query.pageSize ?? 100, ...(cursor ? { cursor } : {}) });
      yield* page.keys;
      cursor = page.next;
    } while (cursor);
  }

  createKey(body: CreateKeyBody, opts: CallOptions = {}): Promise<Key> {
    return this.call('POST', '/v1/keys', body, { ...opts, idempotent: true });
  }

  getKey(id: string, query: { network?: BitcoinNetwork } = {}): Promise<Key> {
    return this.call('GET', `/v1/keys/${encodeURIComponent(id)}${search(query)}`);
  }

  /** A non-hardened child of a key: its public key, addresses and (BIP340) Taproot keys. */
  getChild(id: string, path: string, query: { network?: BitcoinNetwork } = {}): Promise<ChildKey> {
    return this.call('GET', `/v1/keys/${encodeURIComponent(id)}/children${search({ path, ...query })}`);
  }

  sign(id: string, body: SignBody, opts: CallOptions = {}): Promise<SignResult> {
    return this.call('POST', `/v1/keys/${encodeURIComponent(id)}/sign`, body, { ...opts, idempotent: true });
  }

  disableKey(id: string, opts: CallOptions = {}): Promise<Key> {
    return this.call('POST', `/v1/keys/${encodeURIComponent(id)}/disable`, undefined, opts);
  }

  enableKey(id: string, opts: CallOptions = {}): Promise<Key> {
    return this.call('POST', `/v1/keys/${encodeURIComponent(id)}/enable`, undefined, opts);
  }

  refreshKey(id: string, opts: CallOptions = {}): Promise<Key> {
    return this.call('POST', `/v1/keys/${encodeURIComponent(id)}/refresh`, undefined, opts);
  }

  repairKey(id: string, node: number, opts: CallOptions = {}): Promise<{ id: string; repaired: number }> {
    return this.call('POST', `/v1/keys/${encodeURIComponent(id)}/repair`, { node }, opts);
  }

  reshareKey(id: string, committee: { nodes: readonly number[]; threshold: number }, opts: CallOptions = {}): Promise<Key> {
    return this.call('POST', `/v1/keys/${encodeURIComponent(id)}/reshare`, { nodes: [...committee.nodes], threshold: committee.threshold }, opts);
  }

  destroyKey(id: string, opts: CallOptions = {}): Promise<{ id: string; destroyed: true }> {
    return this.call('DELETE', `/v1/keys/${encodeURIComponent(id)}`, undefined, opts);
  }

  /** A sign request that waits for its rule's approvers (`status` says where it is; `result` once signed). */
  submitRequest(id: string, body: SignBody, opts: CallOptions = {}): Promise<PendingRequest> {
    return this.call('POST', `/v1/keys/${encodeURIComponent(id)}/requests`, body, opts);
  }

  getRequest(requestId: string, opts: CallOptions = {}): Promise<PendingRequest> {
    return this.call('GET', `/v1/requests/${encodeURIComponent(requestId)}`, undefined, opts);
  }

  /** An approver's signature over the request's `approval` (see `mpc approve`). */
  approveRequest(requestId: string, approval: { approver: string; signature: string }, opts: CallOptions = {}): Promise<PendingRequest> {
    return this.call('POST', `/v1/requests/${encodeURIComponent(requestId)}/approvals`, approval, opts);
  }

  /** The signing policy in force, and the version each node reported. */
  getPolicy(opts: CallOptions = {}): Promise<PolicyView> {
    return this.call('GET', '/v1/policy', undefined, opts);
  }

  /** A policy version with its administrators' signatures (see `mpc policy sign`). */
  proposePolicy(proposal: PolicyProposal, opts: CallOptions = {}): Promise<PolicyView> {
    return this.call('POST', '/v1/policy', proposal, opts);
  }

  /** The OpenAPI document the server generates from the contract. */
  openapi(): Promise<Record<string, unknown>> {
    return this.call('GET', '/v1/openapi.json');
  }

  /**
   * The session events of this token's requests (every request's for an admin token), or of one
   * request. Resolves once subscribed, so nothing after it is missed; `close()` ends the iteration.
   */
  async events(filter: { requestId?: string } = {}): Promise<AsyncIterable<SessionEventMessage> & { close(): void }> {
    const url = new URL(`${this.base.replace(/^http/, 'ws')}/v1/events`);
    if (filter.requestId) url.searchParams.set('requestId', filter.requestId);
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.opts.token}` } });
    const queue: SessionEventMessage[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    let failure: Error | undefined;
    ws.on('message', (data) => {
      queue.push(JSON.parse(data.toString()) as SessionEventMessage);
      wake?.();
    });
    ws.on('close', () => {
      ended = true;
      wake?.();
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new MpcApiError(res.statusCode ?? 0, res.statusCode === 401 ? 'unauthorized' : 'unexpected_response', `the event stream answered ${res.statusCode}`)));
      ws.once('error', (e) => reject(new MpcApiError(0, 'unreachable', `cannot reach ${this.base}: ${e.message}`)));
    });
    ws.on('error', (e) => {
      failure = e;
      ended = true;
      wake?.();
    });
    return {
      close: () => ws.close(),
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const next = queue.shift();
          if (next) {
            yield next;
            continue;
          }
          if (ended) {
            if (failure) throw new MpcApiError(0, 'unreachable', `the event stream failed: ${failure.message}`);
            return;
          }
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      },
    };
  }

  private async call<T>(method: Method, path: string, body?: unknown, opts: CallOptions & { idempotent?: boolean; retry?: boolean } = {}): Promise<T> {
    const idempotencyKey = opts.idempotent && this.opts.idempotencyKeys !== false ? (opts.idempotencyKey ?? randomUUID()) : undefined;
    const requestId = opts.requestId ?? randomUUID();
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.opts.token}`,
      'x-request-id': requestId,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      ...(timeoutMs ? { 'x-request-timeout-ms': String(timeoutMs) } : {}),
    };
    const attempts = opts.retry === false ? 1 : 1 + (this.opts.retries ?? 3);
    for (let attempt = 1; ; attempt++) {
      let error: MpcApiError;
      try {
        const res = await this.http.send(method, `${this.base}${path}`, headers, body !== undefined ? JSON.stringify(body) : undefined);
        const parsed = parseJson(res.text);
        if (res.status >= 200 && res.status < 300) return parsed as T;
        const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
        const retryAfter = Number(res.header('retry-after') ?? NaN);
        error = new MpcApiError(res.status, err?.code ?? 'unexpected_response', err?.message ?? `HTTP ${res.status}`, res.header('x-request-id') ?? requestId, Number.isFinite(retryAfter) ? retryAfter : undefined);
      } catch (e) {
        error = new MpcApiError(0, 'unreachable', `cannot reach ${this.base}: ${failureOf(e)}`, requestId);
      }
      // Without an answer the request may have been carried out: only a GET, or a request the
      // server deduplicates by its Idempotency-Key, is sent again.
      const retryable = error.status === 0 ? method === 'GET' || idempotencyKey !== undefined : NOT_DONE.has(error.status);
      if (!retryable || attempt >= attempts) throw error;
      const wait = Math.min(this.opts.maxBackoffMs ?? 5000, error.retryAfter !== undefined ? error.retryAfter * 1000 : 100 * 2 ** attempt);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * What went wrong on the way: fetch wraps it in `cause`; a connection that tried several
 * addresses (localhost: ::1, then 127.0.0.1) fails with an AggregateError without a message.
 */
function failureOf(e: unknown): string {
  const error = (e as Error).cause instanceof Error ? ((e as Error).cause as Error) : (e as Error);
  if (error.message) return error.message;
  const first = error instanceof AggregateError ? (error.errors[0] as Error | undefined) : undefined;
  return first?.message || ((error as NodeJS.ErrnoException).code ?? String(error));
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function search(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/**
 * Whether a signer's receipt is signed by the node key `nodeKey` (32-byte Ed25519, from the
 * cluster manifest); parse `receipt.receipt` (JSON) for what it says.
 */
export function receiptVerifies(receipt: Receipt, nodeKey: Uint8Array): boolean {
  return receiptSignatureVerifies(Buffer.from(receipt.receipt, 'utf8'), Buffer.from(receipt.signature, 'hex'), nodeKey);
}
