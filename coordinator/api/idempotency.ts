/**
 * Idempotency records for the API (Idempotency-Key): once-only outcomes, per token, durable,
 * bounded by time.
 *
 * - Only completed outcomes (2xx) are kept, for 24 h. An error is not an outcome: a request
 *   refused with 4xx/5xx (overload, a disabled key, a timeout) runs again when retried.
 * - While a request runs, an in-flight marker holds its key: a concurrent retry with the same body
 *   waits for it, one with another body gets 409. The marker is written before the operation
 *   starts and names the process run; after a crash or restart a retry finds a marker of another
 *   run and gets 409 `idempotency_outcome_unknown` instead of a second signature.
 * - Records are scoped to the token (its SHA-256), so one client cannot replay or block another's.
 * - No count-based eviction: nothing an attacker sends can push a record out. Invalid requests
 *   never create one (the caller validates first); expired records are swept by time.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { Level } from 'level';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

export interface CompletedResponse {
  readonly status: number;
  readonly body: unknown;
}

type Stored =
  | { readonly state: 'done'; readonly bodyHash: string; readonly expires: number; readonly response: CompletedResponse }
  | { readonly state: 'running'; readonly bodyHash: string; readonly expires: number; readonly run: string };

export type Lookup =
  | { readonly kind: 'new' }
  | { readonly kind: 'done'; readonly response: CompletedResponse }
  | { readonly kind: 'running'; readonly response: Promise<CompletedResponse | undefined> }
  | { readonly kind: 'conflict' }
  | { readonly kind: 'unknown_outcome' };

/** Where records live: LevelDB in the coordinator's data directory, or memory (tests, no data dir). */
interface Backend {
  get(key: string): Promise<Stored | undefined>;
  put(key: string, value: Stored): Promise<void>;
  del(key: string): Promise<void>;
  sweep(now: number): Promise<void>;
  close(): Promise<void>;
}

export class IdempotencyStore {
  private readonly backend: Backend;
  /** This process run: markers of other runs belong to requests a crash or restart interrupted. */
  private readonly run = randomUUID();
  private readonly running = new Map<string, Promise<CompletedResponse | undefined>>();
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

  /** The record key: token digest, method, path and the client's key. */
  static scope(token: string, method: string, path: string, idempotencyKey: string): string {
    return `${createHash('sha256').update(token).digest('hex')} ${method} ${path} ${idempotencyKey}`;
  }

  async lookup(scope: string, bodyHash: string): Promise<Lookup> {
    const inProcess = this.running.get(scope);
    const stored = await this.backend.get(scope);
    if (!stored || stored.expires <= Date.now()) return inProcess ? this.runningHere(stored, bodyHash, inProcess) : { kind: 'new' };
    if (stored.bodyHash !== bodyHash) return { kind: 'conflict' };
    if (stored.state === 'done') return { kind: 'done', response: stored.response };
    if (stored.run === this.run && inProcess) return { kind: 'running', response: inProcess };
    return { kind: 'unknown_outcome' };
  }

  /**
   * Runs `f` once for `scope`: the in-flight marker is durable before `f` starts; a 2xx outcome
   * replaces it, anything else removes it (a retry runs again).
   */
  async execute(scope: string, bodyHash: string, f: () => Promise<CompletedResponse>): Promise<CompletedResponse> {
    let release!: (r: CompletedResponse | undefined) => void;
    const done = new Promise<CompletedResponse | undefined>((r) => (release = r));
    this.running.set(scope, done);
    try {
      await this.backend.put(scope, { state: 'running', bodyHash, expires: Date.now() + this.ttlMs, run: this.run });
      const response = await f();
      if (response.status >= 200 && response.status < 300) {
        await this.backend.put(scope, { state: 'done', bodyHash, expires: Date.now() + this.ttlMs, response });
      } else {
        await this.backend.del(scope);
      }
      release(response);
      return response;
    } catch (e) {
      await this.backend.del(scope).catch(() => undefined);
      release(undefined);
      throw e;
    } finally {
      this.running.delete(scope);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.backend.close();
  }

  private runningHere(stored: Stored | undefined, bodyHash: string, inProcess: Promise<CompletedResponse | undefined>): Lookup {
    if (stored && stored.bodyHash !== bodyHash) return { kind: 'conflict' };
    return { kind: 'running', response: inProcess };
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
