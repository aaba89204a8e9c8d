/** The LevelDB backend of a node's share ledger (`store/` in its data directory). */
import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import type { BatchOp, KeyRange, KeyValueBackend } from './backend.ts';

export class LevelBackend implements KeyValueBackend {
  private readonly db: Level<string, Uint8Array>;

  private constructor(db: Level<string, Uint8Array>) {
    this.db = db;
  }

  /** Opens (creating) the database; LevelDB's lock makes the open exclusive to one process. */
  static async open(dataDir: string): Promise<LevelBackend> {
    await mkdir(dataDir, { recursive: true });
    const db = new Level<string, Uint8Array>(`${dataDir}/store`, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    return new LevelBackend(db);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.db.get(key);
  }

  getSync(key: string): Uint8Array | undefined {
    return this.db.getSync(key);
  }

  put(key: string, value: Uint8Array, opts: { sync: boolean }): Promise<void> {
    return this.db.put(key, value, opts);
  }

  batch(ops: readonly BatchOp[], opts: { sync: boolean }): Promise<void> {
    return this.db.batch(ops.map((op) => ({ ...op })), opts);
  }

  entries(range: KeyRange): AsyncIterable<readonly [string, Uint8Array]> {
    return this.db.iterator(range);
  }

  keys(range: KeyRange): AsyncIterable<string> {
    return this.db.keys(range);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
