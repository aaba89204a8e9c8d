/**
 * A node's operations endpoint (optional, `http` in the node config): `/metrics` for
 * Prometheus, `/healthz` (the process is alive) and `/readyz` (store open, connected to the
 * coordinator and to enough peers). No shares, keys or tokens are exposed here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { readBackupStatus } from './backup-status.ts';
import type { ShareStore } from './store/share-store.ts';
import type { NodeRuntime } from './runtime.ts';
import type { PeerTransport } from '../cluster/transport/types.ts';

export interface NodeOps {
  readonly registry: Registry;
  /** Sessions ended, by outcome (`completed`, `failed`). */
  readonly sessions: Counter;
  /** Audit-log appends that failed (SECURITY.md: a share is used only after its use is on record). */
  readonly auditWriteFailures: Counter;
  /** Policy decisions on sign requests, by decision (`allowed`, `refused`) and rule. */
  readonly policyDecisions: Counter;
  readonly port: number;
  close(): Promise<void>;
}

export async function startOpsServer(opts: {
  host: string;
  port: number;
  runtime: NodeRuntime;
  store: ShareStore;
  transport: PeerTransport;
  /** Peers (coordinator included) a node needs to be useful. */
  minPeers: number;
  /** The node's data directory, where `mpc backup create` leaves its status. */
  dataDir: string;
}): Promise<NodeOps> {
  const registry = new Registry();
  const { runtime, store, transport } = opts;
  // Prometheus conventions: counters end in _total, latencies are histograms in seconds, and the
  // process's own metrics (CPU, memory, event-loop lag, open handles) are exported too.
  collectDefaultMetrics({ register: registry });
  new Gauge({ name: 'mpc_node_active_sessions', help: 'Protocol sessions in flight', registers: [registry], collect() { this.set(runtime.activeSessions); } });
  new Gauge({ name: 'mpc_node_presignatures', help: 'Unused presignatures held (they do not survive a restart)', registers: [registry], collect() { this.set(runtime.presignatures); } });
  new Gauge({ name: 'mpc_node_connected_peers', help: 'Peers with an open authenticated channel', registers: [registry], collect() { this.set(transport.connectedPeers().length); } });
  const fromStore = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        // The store keeps the running totals; a counter mirrors them at scrape time.
        this.reset();
        this.inc(read());
      },
    });
  fromStore('mpc_node_unseal_cache_hits_total', 'Unseal cache hits', () => store.counters.cacheHits);
  fromStore('mpc_node_unseal_cache_misses_total', 'Unseal cache misses', () => store.counters.cacheMisses);
  fromStore('mpc_node_provider_unwraps_total', 'Provider (HSM/KMS) unwrap calls', () => store.counters.unwrapCount);
  fromStore('mpc_node_protocol_worker_sessions_total', 'Signing and presigning sessions run on protocol worker threads', () => runtime.workerSessions);
  new Gauge({ name: 'mpc_node_protocol_workers', help: 'Protocol worker threads (0: sessions run on the main thread)', registers: [registry], collect() { this.set(runtime.protocolWorkers); } });
  fromStore('mpc_node_unseal_failures_total', 'Shares that did not open: provider errors (HSM/KMS down, wrong PIN) or records that fail authentication', () => store.counters.unsealFailures);
  const unwrapDuration = new Histogram({
    name: 'mpc_node_provider_unwrap_duration_seconds',
    help: 'Provider (HSM/KMS) unwrap latency',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  store.onUnwrap = (seconds) => unwrapDuration.observe(seconds);
  // The last backup (written by `mpc backup create` on the stopped node): 0 when there was none.
  new Gauge({
    name: 'mpc_node_last_backup_timestamp_seconds',
    help: 'Unix time of the last completed backup of this node (0: never)',
    registers: [registry],
    async collect() {
      this.set((await readBackupStatus(opts.dataDir))?.completedAt ?? 0);
    },
  });
  new Gauge({
    name: 'mpc_node_last_backup_duration_seconds',
    help: 'How long the last backup of this node took',
    registers: [registry],
    async collect() {
      this.set((await readBackupStatus(opts.dataDir))?.durationSeconds ?? 0);
    },
  });
  const sessions = new Counter({ name: 'mpc_node_sessions_total', help: 'Sessions ended, by outcome', labelNames: ['outcome'], registers: [registry] });
  const auditWriteFailures = new Counter({ name: 'mpc_node_audit_write_failures_total', help: 'Audit-log appends that failed (the share was not used)', registers: [registry] });
  const policyDecisions = new Counter({ name: 'mpc_node_policy_decisions_total', help: 'Policy decisions on sign requests, by decision and rule', labelNames: ['decision', 'rule'], registers: [registry] });
  new Gauge({
    name: 'mpc_node_policy_version',
    help: 'Version of the signing policy this node enforces (0: none)',
    registers: [registry],
    async collect() {
      this.set((await opts.store.policy.active()).version);
    },
  });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/metrics') {
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      }, () => json(500, { error: { code: 'internal', message: 'metrics unavailable' } }));
    } else if (path === '/healthz') json(200, { status: 'alive' });
    else if (path === '/readyz') {
      const peers = transport.connectedPeers();
      const ready = peers.includes('coordinator' as never) && peers.length >= opts.minPeers;
      json(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', peers: peers.length });
    } else json(404, { error: { code: 'not_found', message: 'no such endpoint' } });
  });
  await new Promise<void>((r) => server.listen(opts.port, opts.host, r));
  return {
    registry,
    sessions,
    auditWriteFailures,
    policyDecisions,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
