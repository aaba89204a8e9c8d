/** The coordinator's configuration file, validated at start-up (errors name the bad field). */
import { z } from 'zod';
import { loadJsonConfig } from '../cluster/config.ts';
import { BITCOIN_NETWORKS } from '../protocol/schemes/index.ts';
import { ENGINE_DEFAULTS } from './engine/defaults.ts';
import { PRESIGN_DEFAULTS } from './engine/presign-pool.ts';

export const coordinatorConfigSchema = z.strictObject({
  /** libp2p listen address the nodes connect to. */
  listen: z.string().regex(/^[a-zA-Z0-9.-]+:\d{1,5}$/, 'expected host:port'),
  http: z.strictObject({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(7700),
    /** PEM files: serve HTTPS (TLS 1.3, X25519MLKEM768 preferred). Required off loopback unless `allowInsecure`. */
    tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    /** Plain HTTP on a non-loopback address: only behind a TLS-terminating proxy (or a port published to loopback only). */
    allowInsecure: z.boolean().default(false),
  }),
  dataDir: z.string().min(1),
  manifest: z.string().min(1),
  /** Provider sealing the coordinator's identity key. */
  provider: z.looseObject({ type: z.string() }),
  /** Also sign every envelope with an ML-DSA-65 identity (pinned in the manifest as `mldsaKey`). */
  mldsaIdentity: z.boolean().default(false),
  /** File holding the API token (all scopes) when MPC_API_TOKEN is not set. */
  tokenFile: z.string().min(1).optional(),
  /** Scoped tokens, kept as SHA-256 digests (`mpc token create`); see coordinator/api/tokens.ts. */
  tokensFile: z.string().min(1).optional(),
  /** Bitcoin network of the addresses and extended keys the API shows when a request names none. */
  bitcoinNetwork: z.enum(BITCOIN_NETWORKS).default('mainnet'),
  /** Threshold of new keys whose request names none (default: a majority of the key's nodes). */
  defaultThreshold: z.number().int().min(2).max(65535).optional(),
  attemptTimeoutMs: z.number().int().min(100).max(120_000).default(ENGINE_DEFAULTS.attemptTimeoutMs),
  maxSessions: z.number().int().min(1).max(100_000).default(ENGINE_DEFAULTS.maxSessions),
  /**
   * Presignature pools (README, "Presignatures"): `size` per signing key (0: off), refilled in
   * the background from below `lowWater` (default: half the size), `concurrency` presigning
   * commands at once, pools for at most `targetsPerKey` signing keys (paths, Taproot spends) per key.
   */
  presignatures: z
    .strictObject({
      // size × targetsPerKey stays within what a node keeps per key (1024, node/store/presignatures.ts).
      size: z.number().int().min(0).max(128).default(PRESIGN_DEFAULTS.size),
      lowWater: z.number().int().min(0).max(128).optional(),
      concurrency: z.number().int().min(1).max(64).default(PRESIGN_DEFAULTS.concurrency),
      targetsPerKey: z.number().int().min(1).max(8).default(PRESIGN_DEFAULTS.targetsPerKey),
    })
    .refine((p) => p.lowWater === undefined || p.lowWater <= p.size, 'lowWater must not exceed size')
    .default({ size: PRESIGN_DEFAULTS.size, concurrency: PRESIGN_DEFAULTS.concurrency, targetsPerKey: PRESIGN_DEFAULTS.targetsPerKey }),
});

export type CoordinatorConfig = z.infer<typeof coordinatorConfigSchema>;

export const loadCoordinatorConfig = (file: string, env?: Record<string, string | undefined>) => loadJsonConfig(file, coordinatorConfigSchema, env);
