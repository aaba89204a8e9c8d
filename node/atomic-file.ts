/**
 * Crash-safe file replacement: write a temporary file, fsync it, rename it over the target,
 * fsync the directory. A crash leaves the old contents or the new, never a torn file.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeAtomically(file: string, contents: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(contents);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
