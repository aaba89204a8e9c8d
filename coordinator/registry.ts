/**
 * The coordinator's list of keys (public metadata only: no share ever reaches the
 * coordinator). Kept as one JSON file rewritten atomically: write a temporary file, fsync it,
 * rename it over the old one, fsync the directory, so a crash leaves the old or the new list.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../cluster/atomic-file.ts';

export { writeAtomically };
import type { KeyInfo } from './service.ts';

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
      const parsed = JSON.parse(await readFile(registry.file!, 'utf8')) as { keys: KeyInfo[] };
      for (const k of parsed.keys) registry.keys.set(k.id, k);
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
    const snapshot = JSON.stringify({ version: 1, keys: this.list() }, null, 2);
    this.writing = this.writing.catch(() => undefined).then(() => writeAtomically(file, snapshot));
    return this.writing;
  }
}
