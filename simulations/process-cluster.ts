/**
 * The harness's second backend: a real local cluster (the `npm start` launcher: coordinator and
 * node processes over libp2p on loopback), driven through the HTTP API; crashes are SIGKILL and
 * restarts spawn `mpc start-node` again. Scenarios that only need crash/restart run on it too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MpcApiError, MpcClient } from '../client/index.ts';
import { ServiceError, type KeyInfo, type NodeId, type Scheme, type SignResult } from '../coordinator/service.ts';
import type { AuditEntry } from '../node/operations/context.ts';
import { readAuditEntries } from '../node/audit.ts';
import { auditFile } from '../node/main.ts';
import { memberV8Flags } from '../cluster/v8-flags.ts';
import { freeClusterPort } from './ports.ts';

const ROOT = resolve(import.meta.dirname, '..');

export class ProcessCluster {
  /** The cluster's API (no retries: a scenario counts every refusal itself). */
  readonly client: MpcClient;
  /** The launcher's data directory: member folders, manifest, and the local administrators' keys (admins/). */
  readonly dataDir: string;
  private readonly launcher: ChildProcess;
  private readonly restarted = new Map<NodeId, ChildProcess>();
  private readonly down = new Set<NodeId>();
  readonly nodes: number;

  private constructor(base: string, token: string, dataDir: string, launcher: ChildProcess, nodes: number) {
    this.client = new MpcClient({ baseUrl: base, token, retries: 0 });
    this.dataDir = dataDir;
    this.launcher = launcher;
    this.nodes = nodes;
  }

  static async create(nodes: number): Promise<ProcessCluster> {
    const dataDir = await mkdtemp(join(tmpdir(), 'mpc-sim-'));
    const port = await freeClusterPort(Math.max(nodes, 8));
    const token = randomBytes(24).toString('hex');
    const launcher = logged(join(dataDir, 'launcher.log'), [join(ROOT, 'coordinator/cluster.ts'), '--nodes', String(nodes), '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'], { ...process.env, MPC_API_TOKEN: token });
    const cluster = new ProcessCluster(`http://127.0.0.1:${port}`, token, dataDir, launcher, nodes);
    await cluster.settle(60_000);
    return cluster;
  }

  /** Every node's audit log entries, read from its data directory. */
  async auditEntries(): Promise<{ node: NodeId; entry: AuditEntry }[]> {
    const out: { node: NodeId; entry: AuditEntry }[] = [];
    for (let node = 1; node <= this.nodes; node++) {
      for (const entry of await readAuditEntries(auditFile(join(this.dataDir, `node-${node}`)))) out.push({ node, entry });
    }
    return out;
  }

  async createKey(scheme: Scheme, threshold: number, nodes?: readonly NodeId[]): Promise<KeyInfo> {
    return asService(() => this.client.createKey({ scheme, threshold, ...(nodes ? { nodes: [...nodes] } : {}) }, { timeoutMs: 120_000 }));
  }

  async sign(keyId: string, message: Uint8Array, deadlineMs: number): Promise<SignResult> {
    return asService(() => this.client.sign(keyId, { message: Buffer.from(message).toString('hex') }, { timeoutMs: Math.max(1, Math.floor(deadlineMs)) }));
  }

  async crash(node: NodeId): Promise<void> {
    const pid = this.restarted.get(node)?.pid ?? (await this.processes()).find((p) => p.id === `node-${node}`)!.pid;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    this.restarted.delete(node);
    this.down.add(node);
  }

  async restart(node: NodeId): Promise<void> {
    const entry = (await this.processes()).find((p) => p.id === `node-${node}`)!;
    this.restarted.set(node, logged(join(this.dataDir, 'logs', `node-${node}-restarted.log`), [...memberV8Flags(), join(ROOT, 'bin/mpc.ts'), 'start-node', '--config', entry.config], { ...process.env, MPC_LOG_LEVEL: 'warn' }));
    this.down.delete(node);
  }

  /** Waits until the coordinator sees exactly the nodes that are not crashed as online. */
  async settle(timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const health = await this.client.health().catch(() => undefined);
      if (health && health.nodes.length === this.nodes && health.nodes.every((n) => n.online === !this.down.has(n.id))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('process cluster did not settle');
  }

  /** Stops every process; the data directory and logs are kept when `keep` (a failed run) or MPC_KEEP_SIM_DATA=1. */
  async close(keep = false): Promise<void> {
    for (const c of this.restarted.values()) c.kill('SIGKILL');
    this.launcher.kill('SIGTERM');
    await new Promise((r) => (this.launcher.exitCode === null ? this.launcher.once('exit', r) : r(undefined)));
    for (const p of await this.processes().catch(() => [])) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (keep || process.env.MPC_KEEP_SIM_DATA === '1') console.error(`process cluster data and logs kept in ${this.dataDir}`);
    else await rm(this.dataDir, { recursive: true, force: true });
  }

  private async processes(): Promise<{ id: string; pid: number; config: string }[]> {
    return (JSON.parse(await readFile(join(this.dataDir, 'cluster.json'), 'utf8')) as { processes: { id: string; pid: number; config: string }[] }).processes;
  }
}

/** A child process whose output is appended to `logFile` (kept with the data directory of a failed run). */
function logged(logFile: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

/** The API's errors as the SigningService's, which the scenarios count by code. */
async function asService<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof MpcApiError) throw new ServiceError(e.code as ServiceError['code'], e.message);
    throw e;
  }
}
