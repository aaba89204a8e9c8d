/**
 * First-start initialisation of a local cluster's data directory: one folder per member with
 * its config, its identity key sealed by its `local` provider, a manifest pinning every
 * member's key, and the API token. Later starts find `layout.json` and reuse all of it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createIdentity } from '../cluster/identity.ts';
import { createProtector } from '../cluster/providers/index.ts';
import { MlDsaSigner } from '../cluster/providers/mldsa.ts';
import { manifestJson } from '../cluster/transport/manifest.ts';
import { writeAtomically } from '../cluster/atomic-file.ts';

export interface ClusterMember {
  readonly role: 'coordinator' | 'node';
  readonly id: string;
  readonly config: string;
  readonly address: string;
  readonly http?: string;
}

export interface ClusterLayout {
  readonly dataDir: string;
  readonly nodes: number;
  readonly threshold: number;
  readonly port: number;
  readonly tokenFile: string;
  /** Set only on the start that generated the token (it is printed once). */
  readonly generatedToken?: string;
  readonly members: readonly ClusterMember[];
}

export interface InitOptions {
  readonly dataDir: string;
  readonly nodes: number;
  readonly threshold: number;
  readonly port: number;
  /** MPC_API_TOKEN: when set, no token file is generated. */
  readonly apiToken?: string | undefined;
  /** Give every member an ML-DSA-65 identity too, and require it on every envelope. */
  readonly pqIdentity?: boolean;
  /** Host part of each member's peer address (default 127.0.0.1; docker-compose uses service names). */
  readonly hostOf?: (memberId: string) => string;
  /** Where the API and the nodes' ops endpoints listen (default 127.0.0.1). */
  readonly httpHost?: string;
  /** Each node's protocol worker threads (written into its config at creation; default `auto`). */
  readonly protocolWorkers?: number | 'auto';
  /** The coordinator's presignature pools (written into its config at creation; size 0 or none: off). */
  readonly presignatures?: { readonly size: number; readonly lowWater?: number };
  /**
   * Policy administrators to create (sealed keys in <dataDir>/admins, each under a local key file
   * beside it) and list in the manifest: `threshold` of `count` sign policy versions. Default 2 of 3.
   */
  readonly administrators?: { readonly count: number; readonly threshold: number };
  /** Each member's share/identity provider (default: `local` with a key file in its folder). */
  readonly providerOf?: (memberId: string, dir: string) => { type: string } & Record<string, unknown>;
}

const P2P_OFFSET = 100;
/** Node i's metrics/health endpoint is on port + 200 + i. */
const OPS_OFFSET = 200;

/** How many consecutive ports, from the API's, a local cluster of up to `nodes` nodes listens on. */
export function clusterPortSpan(nodes: number): number {
  return OPS_OFFSET + nodes + 1;
}

export async function initCluster(opts: InitOptions): Promise<ClusterLayout> {
  const layoutFile = join(opts.dataDir, 'layout.json');
  // In the coordinator's own folder: in the compose cluster only the coordinator's volume holds it
  // (every member mounts the shared data dir). Clusters made before keep theirs where their config says.
  const tokenFile = join(opts.dataDir, 'coordinator', 'api-token');
  let saved: { nodes: number; threshold: number; port: number } | undefined;
  try {
    saved = JSON.parse(await readFile(layoutFile, 'utf8')) as { nodes: number; threshold: number; port: number };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (saved && saved.nodes !== opts.nodes) {
    throw new Error(`${opts.dataDir} holds a ${saved.nodes}-node cluster; start it with --nodes ${saved.nodes} or use another --data-dir`);
  }
  const { nodes, threshold, port } = saved ?? opts;
  const members = memberLayout(opts.dataDir, nodes, port, opts.hostOf ?? (() => '127.0.0.1'));
  const httpHost = opts.httpHost ?? '127.0.0.1';

  if (!saved) {
    await mkdir(opts.dataDir, { recursive: true });
    const manifestFile = join(opts.dataDir, 'manifest.json');
    const keys: { id: string; identityKey: Uint8Array; mldsaKey?: Uint8Array; address: string }[] = [];
    for (const m of members) {
      const dir = join(opts.dataDir, m.id);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const provider = opts.providerOf?.(m.id, dir) ?? { type: 'local', keyFile: join(dir, 'kek.hex') };
      const config =
        m.role === 'coordinator'
          ? {
              listen: m.address,
              // Off loopback only inside a container whose port is published to the host's loopback
              // (docker-compose.yml); anywhere else configure http.tls instead.
              http: { host: httpHost, port, ...(httpHost.startsWith('127.') ? {} : { allowInsecure: true }) },
              dataDir: dir,
              manifest: manifestFile,
              provider,
              tokenFile,
              defaultThreshold: threshold,
              mldsaIdentity: opts.pqIdentity ?? false,
              presignatures: opts.presignatures ?? { size: 0 },
            }
          : {
              id: Number(m.id.slice('node-'.length)),
              listen: m.address,
              dataDir: dir,
              manifest: manifestFile,
              provider,
              http: { host: httpHost, port: port + OPS_OFFSET + Number(m.id.slice('node-'.length)) },
              mldsaIdentity: opts.pqIdentity ?? false,
              protocolWorkers: opts.protocolWorkers ?? 'auto',
            };
      await writeAtomically(m.config, JSON.stringify(config, null, 2) + '\n');
      const protector = await createProtector(provider);
      const identity = await createIdentity(join(dir, 'identity.json'), m.id, protector);
      const mldsa = opts.pqIdentity ? await MlDsaSigner.create(join(dir, 'mldsa-identity.json'), m.id, protector) : undefined;
      keys.push({ id: m.id, identityKey: identity.publicKey, ...(mldsa ? { mldsaKey: await mldsa.publicKey() } : {}), address: m.address });
    }
    const admins = opts.administrators ?? { count: 3, threshold: 2 };
    const adminKeys: { id: string; identityKey: Uint8Array }[] = [];
    if (admins.count > 0) await mkdir(join(opts.dataDir, 'admins'), { recursive: true, mode: 0o700 });
    for (let i = 1; i <= admins.count; i++) {
      // Together on one disk only in a local development cluster: administrators keep theirs apart.
      const file = join(opts.dataDir, 'admins', `admin-${i}.json`);
      const identity = await createIdentity(file, `admin:admin-${i}`, await createProtector({ type: 'local', keyFile: `${file}.kek` }));
      adminKeys.push({ id: `admin-${i}`, identityKey: identity.publicKey });
    }
    await writeAtomically(manifestFile, manifestJson(keys, adminKeys.length ? { threshold: admins.threshold, members: adminKeys } : undefined));
    await writeAtomically(layoutFile, JSON.stringify({ nodes, threshold, port }, null, 2) + '\n');
  }

  let generatedToken: string | undefined;
  if (!opts.apiToken) {
    try {
      await readFile(tokenFile, 'utf8');
    } catch {
      await mkdir(join(opts.dataDir, 'coordinator'), { recursive: true, mode: 0o700 });
      generatedToken = randomBytes(32).toString('base64url');
      const fh = await open(tokenFile, 'wx', 0o600);
      await fh.writeFile(generatedToken + '\n');
      await fh.sync();
      await fh.close();
    }
  }
  return { dataDir: opts.dataDir, nodes, threshold, port, tokenFile, members, ...(generatedToken ? { generatedToken } : {}) };
}

function memberLayout(dataDir: string, nodes: number, port: number, hostOf: (memberId: string) => string): ClusterMember[] {
  const members: ClusterMember[] = [
    { role: 'coordinator', id: 'coordinator', config: join(dataDir, 'coordinator', 'coordinator.json'), address: `${hostOf('coordinator')}:${port + P2P_OFFSET}`, http: `127.0.0.1:${port}` },
  ];
  for (let i = 1; i <= nodes; i++) {
    members.push({ role: 'node', id: `node-${i}`, config: join(dataDir, `node-${i}`, 'node.json'), address: `${hostOf(`node-${i}`)}:${port + P2P_OFFSET + i}` });
  }
  return members;
}
