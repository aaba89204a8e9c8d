/**
 * A node's operations endpoint (optional, `http` in the node config): `/metrics` for
 * Prometheus, `/healthz` (the process is alive) and `/readyz` (store open, connected to the
 * coordinator and to enough peers). No shares, keys or tokens are exposed here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ShareStore } from './store/share-store.ts';
import type { NodeRuntime } from './runtime.ts';
import type { PeerTransport } from './transport/types.ts';

export interface NodeOps {
  readonly registry: Registry;
  readonly sessions: Counter;
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
}): Promise<NodeOps> {
  const registry = new Registry();
  const { runtime, store, transport } = opts;
  new Gauge({ name: 'mpc_node_active_sessions', help: 'Protocol sessions in flight', registers: [registry], collect() { this.set(runtime.activeSessions); } });
  new Gauge({ name: 'mpc_node_connected_peers', help: 'Peers with an open authenticated channel', registers: [registry], collect() { this.set(transport.connectedPeers().length); } });
  new Gauge({ name: 'mpc_node_unseal_cache_hits', help: 'Unseal cache hits since start', registers: [registry], collect() { this.set(store.counters.cacheHits); } });
  new Gauge({ name: 'mpc_node_unseal_cache_misses', help: 'Unseal cache misses since start', registers: [registry], collect() { this.set(store.counters.cacheMisses); } });
  new Gauge({ name: 'mpc_node_provider_unwraps', help: 'Provider unwrap calls since start', registers: [registry], collect() { this.set(store.counters.unwrapCount); } });
  new Gauge({
    name: 'mpc_node_provider_unwrap_seconds_avg',
    help: 'Mean provider (HSM/KMS) unwrap latency since start',
    registers: [registry],
    collect() {
      this.set(store.counters.unwrapCount ? store.counters.unwrapTotalMs / store.counters.unwrapCount / 1000 : 0);
    },
  });
  const sessions = new Counter({ name: 'mpc_node_sessions_total', help: 'Sessions ended, by outcome', labelNames: ['outcome'], registers: [registry] });
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
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
