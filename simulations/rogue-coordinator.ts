/**
 * The coordinator's identity in the attacker's hands, on either backend: its engine to drive as
 * it likes, and its signing key and link to send the nodes whatever it wants, bypassing the
 * engine's own checks. In memory that is the cluster's own coordinator; over processes the real
 * coordinator process is killed and this process joins the cluster in its place, with its
 * sealed identity, its key registry and its libp2p address.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadIdentity } from '../cluster/identity.ts';
import { joinCluster } from '../cluster/join.ts';
import { pino } from 'pino';
import { createProtector } from '../cluster/providers/index.ts';
import { COORDINATOR, nodeNumber } from '../cluster/transport/manifest.ts';
import type { CoordinatorMessage, NodeReport } from '../cluster/control.ts';
import { loadCoordinatorConfig } from '../coordinator/config.ts';
import { Engine } from '../coordinator/engine/engine.ts';
import { coordinatorIdentityFile } from '../coordinator/main.ts';
import { policyFile } from '../coordinator/policy-file.ts';
import { KeyRegistry } from '../coordinator/registry.ts';
import type { NodeId } from '../coordinator/service.ts';
import type { AuditEntry } from '../node/operations/context.ts';
import { loadNodeConfig } from '../node/config.ts';
import { readAuditEntries } from '../node/audit.ts';
import { auditFile } from '../node/main.ts';
import { partyId } from '../protocol/core/ids.ts';
import type { MemoryCluster } from './memory-cluster.ts';
import type { AdminKey } from './administrators.ts';

export type { AdminKey } from './administrators.ts';

export interface CoordinatorControl {
  readonly engine: Engine;
  /** Sends a message to a node with the coordinator's identity, as the attacker pleases. */
  send(node: NodeId, message: CoordinatorMessage): void;
  signAsCoordinator(input: Uint8Array): Uint8Array;
  /** Every report a node sent since the takeover. */
  readonly reports: { readonly from: NodeId; readonly report: NodeReport }[];
  /** The policy audit entries every node wrote (read from their logs over processes). */
  policyAudits(): Promise<{ node: NodeId; entry: AuditEntry }[]>;
  close(): Promise<void>;
}

/** The in-memory cluster's own coordinator. */
export function memoryCoordinator(cluster: MemoryCluster): CoordinatorControl {
  cluster.recordReports = true;
  cluster.recordAudits = true;
  return {
    engine: cluster.engine,
    send: (node, message) => cluster.sendAsCoordinator(node, message),
    signAsCoordinator: cluster.signAsCoordinator,
    reports: cluster.reports,
    policyAudits: async () => cluster.audits.filter((a) => a.entry.event === 'policy'),
    close: async () => undefined,
  };
}

interface ClusterFile {
  processes: { role: string; id: string; pid: number; config: string }[];
}

/**
 * Kills the coordinator process of the local cluster in `dataDir` and takes its place: same
 * identity (unsealed with its provider), same registry, same listen address.
 */
export async function takeOverCoordinator(dataDir: string): Promise<CoordinatorControl> {
  const cluster = JSON.parse(await readFile(join(dataDir, 'cluster.json'), 'utf8')) as ClusterFile;
  const entry = cluster.processes.find((p) => p.role === 'coordinator')!;
  try {
    process.kill(entry.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  for (let i = 0; i < 200 && alive(entry.pid); i++) await new Promise((r) => setTimeout(r, 50));
  const config = await loadCoordinatorConfig(entry.config);
  const protector = await createProtector(config.provider);
  const log = pino({ name: 'rogue-coordinator', level: 'warn' });
  // The old process's listener is gone with it; its port may take a moment to be free again.
  let membership: Awaited<ReturnType<typeof joinCluster>> | undefined;
  for (let attempt = 0; !membership; attempt++) {
    try {
      membership = await joinCluster({ self: COORDINATOR, protector, identityFile: coordinatorIdentityFile(config.dataDir), manifestFile: config.manifest, listen: config.listen, log });
    } catch (e) {
      if (attempt >= 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const { identity, manifest, transport, link } = membership;
  const nodes = [...manifest.members.keys()].map(nodeNumber).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
  const registry = await KeyRegistry.open(config.dataDir);
  const engine = new Engine({
    nodes,
    registry,
    send: (node, message) => link.send({ role: 'node', id: partyId(node) }, message),
    ...(manifest.administrators ? { administrators: manifest.administrators } : {}),
    policyStore: policyFile(config.dataDir),
    heartbeatMs: 250,
    livenessMs: 2500,
  });
  const reports: { from: NodeId; report: NodeReport }[] = [];
  link.onMessage((from, message) => {
    if (from.role !== 'node') return;
    reports.push({ from: from.id, report: message as NodeReport });
    engine.onReport(from.id, message as NodeReport);
  });
  await engine.start();
  const nodeConfigs = cluster.processes.filter((p) => p.role === 'node');
  return {
    engine,
    send: (node, message) => void link.send({ role: 'node', id: partyId(node) }, message).catch(() => undefined),
    signAsCoordinator: identity.sign,
    reports,
    async policyAudits() {
      const out: { node: NodeId; entry: AuditEntry }[] = [];
      for (const p of nodeConfigs) {
        const node = Number(p.id.slice('node-'.length));
        for (const entry of await readAuditEntries(auditFile((await loadNodeConfig(p.config)).dataDir))) if (entry.event === 'policy') out.push({ node, entry });
      }
      return out;
    },
    async close() {
      engine.stop();
      await transport.close();
      await registry.close();
    },
  };
}

/** The local cluster's administrators (a development cluster keeps their keys in admins/). */
export async function localAdministrators(dataDir: string, count = 3): Promise<AdminKey[]> {
  const out: AdminKey[] = [];
  for (let i = 1; i <= count; i++) {
    const file = join(dataDir, 'admins', `admin-${i}.json`);
    const identity = await loadIdentity(file, `admin:admin-${i}`, await createProtector({ type: 'local', keyFile: `${file}.kek` }));
    out.push({ name: `admin-${i}`, seed: identity.seed });
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
