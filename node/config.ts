/**
 * A node's configuration: a JSON file, with environment overrides for what operators set per
 * deployment. Validated at start-up; an error names the bad field.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

const hostPort = z.string().regex(/^[a-zA-Z0-9.-]+:\d{1,5}$/, 'expected host:port');

export const nodeConfigSchema = z.strictObject({
  /** Party id of this node, as in the manifest (`node-<id>`). */
  id: z.number().int().min(1).max(65535),
  /** libp2p listen address for peers and the coordinator. */
  listen: hostPort,
  dataDir: z.string().min(1),
  /** The cluster manifest pinning every member's identity key. */
  manifest: z.string().min(1),
  /** Provider settings, validated by the provider factory (`node/providers`). */
  provider: z.looseObject({ type: z.string() }),
  sessionTimeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
  /** Also sign every envelope with an ML-DSA-65 identity (its key pinned in the manifest as `mldsaKey`). */
  mldsaIdentity: z.boolean().default(false),
  /** Metrics and health HTTP endpoint (optional). */
  http: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) }).optional(),
});

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

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

export const loadNodeConfig = (file: string, env?: Record<string, string | undefined>) => loadJsonConfig(file, nodeConfigSchema, env);
