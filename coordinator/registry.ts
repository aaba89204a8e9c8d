/**
 * The coordinator's list of keys (public metadata only: no share ever reaches the coordinator),
 * in LevelDB under `<dataDir>/registry`: one record per key, each change one synced write, so a
 * crash leaves every key as it was or as it became and adding the millionth key costs what the
 * first did (the earlier single `keys.json` was rewritten whole on every change). The records
 * are also held in memory, in listing order, for lookups and pages.
 *
 * Record versions: keys.json version 1 (before 0.2) held BIP340 keys whose stored key was
 * already their BIP86 output key; importing it marks those keys `taprootOutputOnly`
 * (service.ts). A `keys.json` found at open is imported in one batch and kept beside as
 * `keys.json.imported`.
 */
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import type { KeyInfo, KeyPage, KeyQuery } from './service.ts';

/** A keys.json record as the current code reads it (its stored xpub is recomputed on answer). */
function migrate(version: number, k: KeyInfo & { xpub?: string }): KeyInfo {
  const { xpub: _xpub, ...key } = k;
  return version < 2 && key.scheme === 'schnorr-bip340' ? { ...key, taprootOutputOnly: true } : key;
}

/** Keys are listed by creation time, then id: a cursor is the last key's place in that order. */
const cursorOf = (k: KeyInfo): string => Buffer.from(JSON.stringify([k.createdAt, k.id])).toString('base64url');
function parseCursor(cursor: string): [string, string] | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string') ? (v as [string, string]) : undefined;
  } catch {
    return undefined;
  }
}
const before = (a: KeyInfo, createdAt: string, id: string): boolean => a.createdAt < createdAt || (a.createdAt === createdAt && a.id < id);

export class InvalidCursorError extends Error {}

const RECORD = 'k!';

export class KeyRegistry {
  private readonly db: Level<string, string> | undefined;
  private readonly keys = new Map<string, KeyInfo>();
  /** Every key in listing order (creation time, then id). */
  private readonly ordered: KeyInfo[] = [];
  /** Writes are applied one after another, in the order the changes were made. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(db: Level<string, string> | undefined) {
    this.db = db;
  }

  /** A registry persisted in `dir/registry` (LevelDB), or in memory only when `dir` is undefined. */
  static async open(dir: string | undefined): Promise<KeyRegistry> {
    if (!dir) return new KeyRegistry(undefined);
    await mkdir(dir, { recursive: true });
    const db = new Level<string, string>(join(dir, 'registry'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    const registry = new KeyRegistry(db);
    for await (const [, value] of db.iterator({ gte: RECORD, lt: 'k"' })) registry.remember(JSON.parse(value) as KeyInfo);
    await registry.importKeysJson(join(dir, 'keys.json'));
    return registry;
  }

  get(id: string): KeyInfo | undefined {
    return this.keys.get(id);
  }

  list(): KeyInfo[] {
    return [...this.ordered];
  }

  /** One page of keys in creation order, optionally only those with `label`. */
  page(query: KeyQuery): KeyPage {
    let start = 0;
    if (query.cursor !== undefined) {
      const after = parseCursor(query.cursor);
      if (!after) throw new InvalidCursorError('cursor is not one this service gave out');
      start = this.firstAfter(after[0], after[1]);
    }
    const keys: KeyInfo[] = [];
    let i = start;
    for (; i < this.ordered.length && keys.length < query.limit; i++) {
      const k = this.ordered[i]!;
      if (query.label === undefined || k.label === query.label) keys.push(k);
    }
    // Another page exists when a further key matches.
    let more = false;
    for (; i < this.ordered.length && !more; i++) more = query.label === undefined || this.ordered[i]!.label === query.label;
    return more ? { keys, next: cursorOf(keys[keys.length - 1]!) } : { keys };
  }

  /** Adds or replaces a key; resolves once it is durably on disk. */
  async put(key: KeyInfo): Promise<void> {
    this.remember(key);
    await this.write((db) => db.put(`${RECORD}${key.id}`, JSON.stringify(key), { sync: true }));
  }

  /** Forgets a key; resolves once that is durably on disk. */
  async delete(id: string): Promise<void> {
    const key = this.keys.get(id);
    if (key) {
      this.keys.delete(id);
      this.ordered.splice(this.indexOf(key), 1);
    }
    await this.write((db) => db.del(`${RECORD}${id}`, { sync: true }));
  }

  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    await this.db?.close();
  }

  private write(op: (db: Level<string, string>) => Promise<void>): Promise<void> {
    const db = this.db;
    if (!db) return Promise.resolve();
    const next = this.writing.catch(() => undefined).then(() => op(db));
    this.writing = next;
    return next;
  }

  private remember(key: KeyInfo): void {
    const old = this.keys.get(key.id);
    if (old) this.ordered.splice(this.indexOf(old), 1);
    this.keys.set(key.id, key);
    this.ordered.splice(this.firstAfter(key.createdAt, key.id, true), 0, key);
  }

  /** The position of the first key after (createdAt, id) in listing order (at it, when `inclusive`). */
  private firstAfter(createdAt: string, id: string, inclusive = false): number {
    let lo = 0;
    let hi = this.ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.ordered[mid]!;
      if (before(k, createdAt, id) || (!inclusive && k.createdAt === createdAt && k.id === id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(key: KeyInfo): number {
    return this.firstAfter(key.createdAt, key.id, true);
  }

  /** Imports a keys.json (versions 1 and 2) in one synced batch, then moves it aside. */
  private async importKeysJson(file: string): Promise<void> {
    let raw: string;
    try {
      raw = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`cannot read the key registry ${file}: ${(e as Error).message}`);
    }
    const parsed = JSON.parse(raw) as { version?: number; keys: (KeyInfo & { xpub?: string })[] };
    const keys = parsed.keys.map((k) => migrate(parsed.version ?? 1, k));
    await this.db!.batch(
      keys.map((k) => ({ type: 'put' as const, key: `${RECORD}${k.id}`, value: JSON.stringify(k) })),
      { sync: true },
    );
    for (const k of keys) this.remember(k);
    await rename(file, `${file}.imported`);
  }
}
