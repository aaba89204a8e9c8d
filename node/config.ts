/**
 * A node's configuration: a JSON file, with environment overrides for what operators set per
 * deployment. Validated at start-up; an error names the bad field.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { loadJsonConfig } from '../cluster/config.ts';
import { DEFAULT_SESSION_TIMEOUT_MS } from './session/runner.ts';

export { ConfigError } from '../cluster/config.ts';

const hostPort = z.string().regex(/^[a-zA-Z0-9.-]+:\d{1,5}$/, 'expected host:port');

export const nodeConfigSchema = z.strictObject({
  /** Party id of this node, as in the manifest (`node-<id>`). */
  id: z.number().int().min(1).max(65535),
  /** libp2p listen address for peers and the coordinator. */
  listen: hostPort,
  dataDir: z.string().min(1),
  /** The cluster manifest pinning every member's identity key. */
  manifest: z.string().min(1),
  /** Provider settings, validated by the provider factory (`cluster/providers`). */
  provider: z.looseObject({ type: z.string() }),
  sessionTimeoutMs: z.number().int().min(1000).max(600_000).default(DEFAULT_SESSION_TIMEOUT_MS),
  /**
   * Protocol worker threads for signing and presigning sessions (node/session/worker-pool.ts).
   * `auto`: one per core but one, up to 8, on machines with 4 cores or more; none below, where the
   * main thread and the other processes of a small cluster already use the cores.
   */
  protocolWorkers: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
  /** Also sign every envelope with an ML-DSA-65 identity (its key pinned in the manifest as `mldsaKey`). */
  mldsaIdentity: z.boolean().default(false),
  /** Metrics and health HTTP endpoint (optional). */
  http: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) }).optional(),
});

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/** The number of protocol workers a `protocolWorkers` setting means on a machine with `cores` cores. */
export function protocolWorkerCount(setting: NodeConfig['protocolWorkers'], cores = availableParallelism()): number {
  if (setting !== 'auto') return setting;
  return cores >= 4 ? Math.min(cores - 1, 8) : 0;
}

export const loadNodeConfig = (file: string, env?: Record<string, string | undefined>) => loadJsonConfig(file, nodeConfigSchema, env);
