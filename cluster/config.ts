/**
 * Loading a process's JSON configuration (node or coordinator): parse, apply the environment
 * overrides containers set, validate against the process's schema, resolve relative paths.
 * An error names the bad field.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates a JSON config; relative paths in it resolve against the file's folder. */
export async function loadJsonConfig<T extends z.ZodType>(file: string, schema: T, env: Record<string, string | undefined> = process.env): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read config ${file}: ${(e as Error).message}`);
  }
  const withEnv = applyEnv(raw, env);
  const parsed = schema.safeParse(withEnv);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`config ${file}: field \`${issue.path.join('.') || '(root)'}\`: ${issue.message}`);
  }
  return resolvePaths(parsed.data as Record<string, unknown>, dirname(resolve(file))) as z.infer<T>;
}

/** MPC_DATA_DIR and MPC_LISTEN override the file (containers set them). */
function applyEnv(raw: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const out = { ...(raw as Record<string, unknown>) };
  if (env.MPC_DATA_DIR) out.dataDir = env.MPC_DATA_DIR;
  if (env.MPC_LISTEN) out.listen = env.MPC_LISTEN;
  return out;
}

function resolvePaths(config: Record<string, unknown>, base: string): Record<string, unknown> {
  const out = { ...config };
  for (const k of ['dataDir', 'manifest', 'tokenFile']) if (typeof out[k] === 'string') out[k] = resolve(base, out[k] as string);
  return out;
}

