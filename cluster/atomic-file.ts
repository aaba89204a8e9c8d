/**
 * Crash-safe file writes: write a temporary file, fsync it, move it into place, fsync the
 * directory. A crash leaves the old contents (or no file) or the new, never a torn file.
 */
import { link, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Replaces `file` (or creates it) with `contents`. */
export async function writeAtomically(file: string, contents: string | Uint8Array): Promise<void> {
  const tmp = await writeTemp(file, contents);
  await rename(tmp, file);
  await syncDir(file);
}

/** Creates `file` with `contents`; fails with EEXIST, changing nothing, when it already exists. */
export async function createAtomically(file: string, contents: string | Uint8Array): Promise<void> {
  const tmp = await writeTemp(file, contents);
  try {
    // link(2), unlike rename(2), refuses to replace an existing target.
    await link(tmp, file);
  } finally {
    await unlink(tmp);
  }
  await syncDir(file);
}

async function writeTemp(file: string, contents: string | Uint8Array): Promise<string> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(contents);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

async function syncDir(file: string): Promise<void> {
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
