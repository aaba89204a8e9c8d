/**
 * Runs a scenario against a whole cluster (the real engine and node runtimes on the in-memory
 * network of `memory-cluster.ts`), records every request, and checks safety on every run:
 * every returned signature verifies under the key (independent verifiers), no key share ever
 * crosses the network, and every abort blames only nodes that really misbehaved.
 */
import { createHash } from 'node:crypto';
import { ServiceError, type KeyInfo, type NodeId, type Scheme, type SessionEvent } from '../coordinator/service.ts';
import type { AuditEntry } from '../node/operations/context.ts';
import { schemeOf } from '../protocol/schemes/index.ts';
import { signBroadcast } from '../protocol/core/party.ts';
import { FaultController } from './faults.ts';
import { MemoryCluster, type MemoryClusterOptions } from './memory-cluster.ts';
import { ProcessCluster } from './process-cluster.ts';
import { localAdministrators, memoryCoordinator, takeOverCoordinator, type AdminKey, type CoordinatorControl } from './rogue-coordinator.ts';

export interface RequestRecord {
  readonly at: number;
  readonly ok: boolean;
  readonly cause?: string;
  readonly ms: number;
  readonly signers?: readonly NodeId[];
}

export interface FaultMark {
  readonly at: number;
  readonly label: string;
}

export type Backend = 'memory' | 'processes';

export interface SimContext {
  readonly backend: Backend;
  /** The in-memory cluster (memory backend only: fault layer, vaults, engine internals). */
  readonly cluster: MemoryCluster;
  readonly faults: FaultController;
  /** Crash (SIGKILL for processes) and restart nodes; wait until the coordinator sees it. */
  crash(node: NodeId): Promise<void>;
  restart(node: NodeId): Promise<void>;
  settle(): Promise<void>;
  readonly seed: number;
  readonly short: boolean;
  /** Marks a fault event on the timeline (and the chart). */
  mark(label: string): void;
  createKey(scheme: Scheme, threshold: number, nodes?: NodeId[]): Promise<KeyInfo>;
  /** One signing request, recorded; resolves with its record (never throws). */
  sign(key: KeyInfo, deadlineMs?: number): Promise<RequestRecord>;
  /** Signs `count` times with `concurrency` in flight; `during(i)` runs before request i. */
  load(key: KeyInfo, count: number, opts?: { concurrency?: number; deadlineMs?: number; during?: (i: number) => Promise<void> | void }): Promise<RequestRecord[]>;
  /** Nodes the scenario made byzantine: blame of anyone else is wrong blame. */
  readonly byzantine: Set<NodeId>;
  readonly events: SessionEvent[];
  /**
   * Every node's audit entries so far: in memory those recorded since `cluster.recordAudits` was
   * set, over processes each node's audit log on disk (what survived its crashes).
   */
  auditEntries(): Promise<readonly { readonly node: NodeId; readonly entry: AuditEntry }[]>;
  sleep(ms: number): Promise<void>;
  /**
   * The coordinator's identity in the attacker's hands (over processes the coordinator process
   * is killed and replaced by one in this process); `sign`/`load` are not used after it.
   */
  takeCoordinator(): Promise<CoordinatorControl>;
  /** The policy administrators' keys (over processes: the local cluster's, in admins/). */
  administrators(): Promise<readonly AdminKey[]>;
}

export interface ScenarioResult {
  readonly name: string;
  readonly backend: Backend;
  readonly seed: number;
  readonly form: 'short' | 'full';
  readonly requests: number;
  readonly successes: number;
  readonly failures: Record<string, number>;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly blame: { correct: number; wrong: number };
  readonly safety: { invalidSignatures: number; leakedShares: number };
  readonly figures: Record<string, number | string>;
  readonly records: readonly RequestRecord[];
  readonly marks: readonly FaultMark[];
  readonly started: number;
}

export interface Scenario {
  readonly name: string;
  /** Backends the scenario can run on (default: memory only). */
  readonly backends?: readonly Backend[];
  readonly description: string;
  readonly seed: number;
  readonly cluster: (short: boolean) => MemoryClusterOptions;
  run(ctx: SimContext, figures: Record<string, number | string>): Promise<void>;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]! : NaN;
};

/** Independent verification (OpenSSL for Ed25519, noble for BIP340 and ECDSA), under the key's own public key. */
const verifies = (key: KeyInfo, message: Uint8Array, signature: string, publicKey: string): boolean =>
  publicKey === key.publicKey && schemeOf(key.scheme).verify(Buffer.from(publicKey, 'hex'), message, Buffer.from(signature, 'hex'));

export async function runScenario(scenario: Scenario, short: boolean, backend: Backend = 'memory'): Promise<ScenarioResult> {
  if (!(scenario.backends ?? ['memory']).includes(backend)) throw new Error(`scenario ${scenario.name} does not run on ${backend}`);
  const faults = new FaultController(scenario.seed);
  const blamed: NodeId[] = [];
  const options = scenario.cluster(short);
  const processes = backend === 'processes' ? await ProcessCluster.create(options.nodes) : undefined;
  const cluster = processes ? (undefined as unknown as MemoryCluster) : await MemoryCluster.create({ ...options, link: faults.hook, observe: { blamed: (n) => blamed.push(n) } });
  if (!processes) {
    cluster.recordWire = true;
    faults.resign = (from, m) => signBroadcast({ protocol: m.protocol, session: m.session }, cluster.auths.get(from)!, m.round, m.from, m.payload);
  }
  const started = Date.now();
  const records: RequestRecord[] = [];
  const marks: FaultMark[] = [];
  const events: SessionEvent[] = [];
  const byzantine = new Set<NodeId>();
  let invalidSignatures = 0;
  let counter = 0;
  let control: CoordinatorControl | undefined;
  const ctx: SimContext = {
    backend,
    takeCoordinator: async () => (control ??= processes ? await takeOverCoordinator(processes.dataDir) : memoryCoordinator(cluster)),
    administrators: async () => (processes ? localAdministrators(processes.dataDir) : (options.administratorKeys?.keys ?? [])),
    cluster,
    faults,
    crash: async (n) => (processes ? processes.crash(n) : cluster.crash(n)),
    restart: async (n) => (processes ? processes.restart(n) : cluster.restart(n)),
    settle: () => (processes ? processes.settle(20_000) : cluster.settle(10_000)),
    seed: scenario.seed,
    short,
    byzantine,
    events,
    mark: (label) => marks.push({ at: Date.now() - started, label }),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    auditEntries: async () => (processes ? processes.auditEntries() : cluster.audits),
    createKey: (scheme, threshold, nodes) =>
      processes
        ? processes.createKey(scheme, threshold, nodes)
        : cluster.engine.createKey({ scheme, threshold, ...(nodes ? { nodes } : {}) }, { deadline: Date.now() + 120_000, requestId: 'sim-keygen', emit: (e) => events.push(e) }),
    async sign(key, deadlineMs = 10_000) {
      const n = counter++;
      const message = key.scheme === 'eddsa-ed25519' ? Buffer.from(`sim ${scenario.seed} ${n}`) : createHash('sha256').update(`sim ${scenario.seed} ${n}`).digest();
      const t0 = Date.now();
      let record: RequestRecord;
      try {
        const sig = processes
          ? await processes.sign(key.id, message, deadlineMs)
          : await cluster.engine.sign(key.id, { message }, { deadline: t0 + deadlineMs, requestId: `sim-${n}`, emit: (e) => events.push(e) });
        if (!verifies(key, message, sig.signature, sig.publicKey)) invalidSignatures++;
        record = { at: t0 - started, ok: true, ms: Date.now() - t0, signers: sig.signers };
      } catch (e) {
        record = { at: t0 - started, ok: false, cause: e instanceof ServiceError ? e.code : 'internal', ms: Date.now() - t0 };
      }
      records.push(record);
      return record;
    },
    async load(key, count, opts = {}) {
      const out: RequestRecord[] = [];
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const i = next++;
          await opts.during?.(i);
          out.push(await ctx.sign(key, opts.deadlineMs));
        }
      };
      await Promise.all(Array.from({ length: opts.concurrency ?? 1 }, worker));
      return out;
    },
  };
  const figures: Record<string, number | string> = {};
  let failed = true;
  try {
    if (!processes) await settleQuietly(cluster);
    await scenario.run(ctx, figures);
    failed = false;
  } finally {
    await control?.close();
    if (processes) await processes.close(failed);
    else cluster.close();
  }
  // Over processes the wire is encrypted and the shares sealed in the nodes: the scan is a memory-backend check.
  const leakedShares = processes ? 0 : await scanForShares(cluster);
  if (processes) figures.leakScan = 'n/a (processes)';
  const latencies = records.filter((r) => r.ok).map((r) => r.ms);
  const failures: Record<string, number> = {};
  for (const r of records) if (!r.ok) failures[r.cause!] = (failures[r.cause!] ?? 0) + 1;
  return {
    name: scenario.name,
    backend,
    seed: scenario.seed,
    form: short ? 'short' : 'full',
    requests: records.length,
    successes: records.filter((r) => r.ok).length,
    failures,
    medianMs: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    blame: { correct: blamed.filter((n) => byzantine.has(n)).length, wrong: blamed.filter((n) => !byzantine.has(n)).length },
    safety: { invalidSignatures, leakedShares },
    figures,
    records,
    marks,
    started,
  };
}

async function settleQuietly(cluster: MemoryCluster): Promise<void> {
  try {
    await cluster.settle(10_000);
  } catch {
    // scenarios with faults from the start check health themselves
  }
}

/** Counts wire messages containing any node's secret signing share (must be 0). */
async function scanForShares(cluster: MemoryCluster): Promise<number> {
  const secrets: Buffer[] = [];
  for (const vault of cluster.vaults.values()) {
    for (const keyId of await vault.keyIds()) {
      const held = (await vault.inspect(keyId))!;
      const adapter = schemeOf(held.key.scheme).adapter;
      for (const epoch of held.epochs) {
        // FROST shares hold the secret scalar at the top, DKLs23 shares in their core.
        const share = adapter.decode((await vault.loadEpochShare(keyId, epoch))!) as { signingShare?: Uint8Array; core?: { signingShare: Uint8Array } };
        const secret = share.signingShare ?? share.core?.signingShare;
        if (secret) secrets.push(Buffer.from(secret));
      }
    }
  }
  let leaks = 0;
  for (const frame of cluster.wire) {
    const buf = Buffer.from(frame);
    if (secrets.some((s) => buf.indexOf(s) >= 0)) leaks++;
  }
  return leaks;
}
