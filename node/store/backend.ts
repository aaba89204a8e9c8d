/**
 * The ordered key-value store under the share ledger: LevelDB on a node's disk
 * (`level-backend.ts`), a sorted map in the simulations (`MemoryBackend`). The ledger needs
 * point reads, atomic batches that are durable when `sync` is set, and ordered range scans.
 */
export type BatchOp = { readonly type: 'put'; readonly key: string; readonly value: Uint8Array } | { readonly type: 'del'; readonly key: string };

export interface KeyRange {
  /** Inclusive lower bound. */
  readonly gte: string;
  /** Exclusive upper bound. */
  readonly lt: string;
}

export interface KeyValueBackend {
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * A point read answered in the caller's turn, for small records on a signature's path (a
   * session claim, a presignature): LevelDB's asynchronous read spends ~30 µs of CPU here on its
   * thread-pool round trip, this one ~2.
   */
  getSync(key: string): Uint8Array | undefined;
  put(key: string, value: Uint8Array, opts: { sync: boolean }): Promise<void>;
  /** All operations take effect together or not at all; with `sync`, durably before it resolves. */
  batch(ops: readonly BatchOp[], opts: { sync: boolean }): Promise<void>;
  /** Entries in `range`, in ascending key order. */
  entries(range: KeyRange): AsyncIterable<readonly [string, Uint8Array]>;
  keys(range: KeyRange): AsyncIterable<string>;
  close(): Promise<void>;
}

/** An in-memory backend: atomic by construction, durable as long as the object lives (a simulated disk). */
export class MemoryBackend implements KeyValueBackend {
  private readonly data = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.getSync(key);
  }

  getSync(key: string): Uint8Array | undefined {
    const v = this.data.get(key);
    return v && Uint8Array.from(v);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.data.set(key, Uint8Array.from(value));
  }

  async batch(ops: readonly BatchOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') {
        this.data.set(op.key, Uint8Array.from(op.value));
      } else {
        this.data.get(op.key)?.fill(0);
        this.data.delete(op.key);
      }
    }
  }

  async *entries(range: KeyRange): AsyncIterable<readonly [string, Uint8Array]> {
    for (const key of this.sortedKeys(range)) {
      const v = this.data.get(key);
      if (v) yield [key, Uint8Array.from(v)];
    }
  }

  async *keys(range: KeyRange): AsyncIterable<string> {
    yield* this.sortedKeys(range);
  }

  async close(): Promise<void> {}

  private sortedKeys(range: KeyRange): string[] {
    return [...this.data.keys()].filter((k) => k >= range.gte && k < range.lt).sort();
  }
}
