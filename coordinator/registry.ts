/**
 * The coordinator's list of keys (public metadata only: no share ever reaches the
 * coordinator). Kept as one JSON file rewritten atomically: write a temporary file, fsync it,
 * rename it over the old one, fsync the directory, so a crash leaves the old or the new list.
 *
 * File versions: 1 (before 0.2) held BIP340 keys whose stored key was already their BIP86
 * output key; reading it marks those keys `taprootOutputOnly` (service.ts), and the next write
 * is version 2.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../cluster/atomic-file.ts';

export { writeAtomically };
import type { KeyInfo, KeyPage, KeyQuery } from './service.ts';

const VERSION = 2;

/** A version-1 record as version 2 reads it (its stored xpub is recomputed on answer). */
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

export class InvalidCursorError extends Error {}

export class KeyRegistry {
  private readonly file: string | undefined;
  private readonly keys = new Map<string, KeyInfo>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(file: string | undefined) {
    this.file = file;
  }

  /** A registry persisted in `dir/keys.json`, or in memory only when `dir` is undefined. */
  static async open(dir: string | undefined): Promise<KeyRegistry> {
    if (!dir) return new KeyRegistry(undefined);
    await mkdir(dir, { recursive: true });
    const registry = new KeyRegistry(join(dir, 'keys.json'));
    try {
      const parsed = JSON.parse(await readFile(registry.file!, 'utf8')) as { version?: number; keys: KeyInfo[] };
      for (const k of parsed.keys) registry.keys.set(k.id, migrate(parsed.version ?? 1, k));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the key registry ${registry.file}: ${(e as Error).message}`);
    }
    return registry;
  }

  get(id: string): KeyInfo | undefined {
    return this.keys.get(id);
  }

  list(): KeyInfo[] {
    return [...this.keys.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** One page of keys in creation order, optionally only those with `label`. */
  page(query: KeyQuery): KeyPage {
    let after: [string, string] | undefined;
    if (query.cursor !== undefined) {
      after = parseCursor(query.cursor);
      if (!after) throw new InvalidCursorError('cursor is not one this service gave out');
    }
    const [createdAt, id] = after ?? ['', ''];
    const matching = this.list().filter((k) => (query.label === undefined || k.label === query.label) && (!after || k.createdAt > createdAt || (k.createdAt === createdAt && k.id > id)));
    const keys = matching.slice(0, query.limit);
    return matching.length > keys.length ? { keys, next: cursorOf(keys[keys.length - 1]!) } : { keys };
  }

  /** Adds or replaces a key; resolves once the list is durably on disk. */
  async put(key: KeyInfo): Promise<void> {
    this.keys.set(key.id, key);
    await this.persist();
  }

  /** Forgets a key; resolves once the list is durably on disk. */
  async delete(id: string): Promise<void> {
    this.keys.delete(id);
    await this.persist();
  }

  private persist(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const snapshot = JSON.stringify({ version: VERSION, keys: this.list() }, null, 2);
    this.writing = this.writing.catch(() => undefined).then(() => writeAtomically(file, snapshot));
    return this.writing;
  }
}
