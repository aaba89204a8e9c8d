/**
 * Idempotency records for the API (Idempotency-Key): once-only outcomes, per token, durable,
 * bounded by time.
 *
 * - Only completed outcomes (2xx) are kept, for 24 h. An error is not an outcome: a request
 *   refused with 4xx/5xx (overload, a disabled key, a timeout) runs again when retried.
 * - While a request runs it holds its key: a concurrent retry with the same body waits for it,
 *   one with another body gets 409. An in-flight marker on disk is written before the operation
 *   starts and names the process run; after a crash or restart a retry finds a marker of another
 *   run and gets 409 `idempotency_outcome_unknown` instead of a second signature.
 * - Records are scoped to the token (its SHA-256), so one client cannot replay or block another's.
 * - No count-based eviction: nothing an attacker sends can push a record out. Invalid requests
 *   never create one (the caller validates first); expired records are swept by time.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { Level } from 'level';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

export interface CompletedResponse {
  readonly status: number;
  readonly body: unknown;
  /** Only error answers carry headers (Retry-After); they are never kept. */
  readonly headers?: Readonly<Record<string, string>>;
}

type Stored =
  | { readonly state: 'done'; readonly bodyHash: string; readonly expires: number; readonly response: CompletedResponse }
  | { readonly state: 'running'; readonly bodyHash: string; readonly expires: number; readonly run: string };

/** What a request with an Idempotency-Key gets: an answer (its own or the first one's), or a refusal. */
export type Once = { readonly kind: 'response'; readonly response: CompletedResponse } | { readonly kind: 'conflict' } | { readonly kind: 'unknown_outcome' };

/** Where records live: LevelDB in the coordinator's data directory, or memory (tests, no data dir). */
interface Backend {
  get(key: string): Promise<Stored | undefined>;
  put(key: string, value: Stored): Promise<void>;
  del(key: string): Promise<void>;
  sweep(now: number): Promise<void>;
  close(): Promise<void>;
}

const succeeded = (r: CompletedResponse) => r.status >= 200 && r.status < 300;

export class IdempotencyStore {
  private readonly backend: Backend;
  /** This process run: markers of other runs belong to requests a crash or restart interrupted. */
  private readonly run = randomUUID();
  /** Keys held by a request of this process, with its body and the answer it will give. */
  private readonly running = new Map<string, { readonly bodyHash: string; readonly answer: Promise<CompletedResponse | undefined> }>();
  private readonly ttlMs: number;
  private sweeper: NodeJS.Timeout | undefined;

  private constructor(backend: Backend, ttlMs: number) {
    this.backend = backend;
    this.ttlMs = ttlMs;
    this.sweeper = setInterval(() => void this.backend.sweep(Date.now()).catch(() => undefined), 60_000);
    this.sweeper.unref();
  }

  static async open(dataDir: string | undefined, ttlMs = IDEMPOTENCY_TTL_MS): Promise<IdempotencyStore> {
    return new IdempotencyStore(dataDir ? await levelBackend(`${dataDir}/idempotency`) : memoryBackend(), ttlMs);
  }

  /** The record key: who asked (the authenticated token's digest), method, path and the client's key. */
  static scope(owner: string, method: string, path: string, idempotencyKey: string): string {
    return `${owner} ${method} ${path} ${idempotencyKey}`;
  }

  /**
   * Runs `f` at most once per scope and body. The key is taken synchronously, before anything is
   * awaited, so concurrent requests cannot both start; a request that finds it taken waits for the
   * first one's answer (and tries again itself if that was an error). On disk an in-flight marker
   * is written before `f` starts; a 2xx answer replaces it, anything else removes it.
   */
  async once(scope: string, bodyHash: string, f: () => Promise<CompletedResponse>): Promise<Once> {
    const held = this.running.get(scope);
    if (held) {
      if (held.bodyHash !== bodyHash) return { kind: 'conflict' };
      const first = await held.answer;
      return first && succeeded(first) ? { kind: 'response', response: first } : this.once(scope, bodyHash, f);
    }
    let release!: (r: CompletedResponse | undefined) => void;
    this.running.set(scope, { bodyHash, answer: new Promise((r) => (release = r)) });
    let answer: CompletedResponse | undefined;
    try {
      const stored = await this.backend.get(scope);
      if (stored && stored.expires > Date.now()) {
        if (stored.bodyHash !== bodyHash) return { kind: 'conflict' };
        if (stored.state === 'running') return { kind: 'unknown_outcome' }; // a request a crash or restart interrupted
        answer = stored.response;
        return { kind: 'response', response: answer };
      }
      await this.backend.put(scope, { state: 'running', bodyHash, expires: Date.now() + this.ttlMs, run: this.run });
      try {
        answer = await f();
      } catch (e) {
        await this.backend.del(scope).catch(() => undefined);
        throw e;
      }
      if (succeeded(answer)) await this.backend.put(scope, { state: 'done', bodyHash, expires: Date.now() + this.ttlMs, response: answer });
      else await this.backend.del(scope);
      return { kind: 'response', response: answer };
    } finally {
      this.running.delete(scope);
      release(answer);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.backend.close();
  }
}

function memoryBackend(): Backend {
  const records = new Map<string, Stored>();
  return {
    get: async (k) => records.get(k),
    put: async (k, v) => void records.set(k, v),
    del: async (k) => void records.delete(k),
    sweep: async (now) => {
      for (const [k, v] of records) if (v.expires <= now) records.delete(k);
    },
    close: async () => records.clear(),
  };
}

async function levelBackend(dir: string): Promise<Backend> {
  await mkdir(dir, { recursive: true });
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  return {
    get: async (k) => {
      const raw = await db.get(`r!${k}`);
      return raw === undefined ? undefined : (JSON.parse(raw) as Stored);
    },
    put: (k, v) => db.put(`r!${k}`, JSON.stringify(v), { sync: true }),
    del: (k) => db.del(`r!${k}`, { sync: true }),
    sweep: async (now) => {
      const expired: string[] = [];
      for await (const [k, v] of db.iterator({ gte: 'r!', lt: 'r"' })) if ((JSON.parse(v) as Stored).expires <= now) expired.push(k);
      if (expired.length) await db.batch(expired.map((key) => ({ type: 'del' as const, key })));
    },
    close: () => db.close(),
  };
}
