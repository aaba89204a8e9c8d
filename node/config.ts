/**
 * A node's configuration: a JSON file, with environment overrides for what operators set per
 * deployment. Validated at start-up; an error names the bad field.
 */
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
  /** Also sign every envelope with an ML-DSA-65 identity (its key pinned in the manifest as `mldsaKey`). */
  mldsaIdentity: z.boolean().default(false),
  /** Metrics and health HTTP endpoint (optional). */
  http: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) }).optional(),
});

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

export const loadNodeConfig = (file: string, env?: Record<string, string | undefined>) => loadJsonConfig(file, nodeConfigSchema, env);
