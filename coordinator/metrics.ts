/**
 * Prometheus metrics of the coordinator, in the service-level terms HSM services use:
 * availability (nodes online), latency (histograms per scheme), error rate by cause,
 * throughput (counts), plus signature-verification failures and retries.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CreateKeyRequest, HealthReport, KeyInfo, KeyQuery, RequestContext, SignRequest, SignResult, SigningService } from './service.ts';
import { ServiceError } from './service.ts';

/** A SigningService, and what the engine also tells about itself. */
type ObservedService = SigningService & { readonly activeSessions?: number; readonly pingsSent?: number; presignPoolStats?(): Map<string, { readonly held: number; readonly low: number }> };

export class CoordinatorMetrics {
  readonly registry = new Registry();
  readonly signDuration = new Histogram({
    name: 'mpc_sign_duration_seconds',
    help: 'Signing request latency',
    labelNames: ['scheme', 'outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly keygenDuration = new Histogram({
    name: 'mpc_keygen_duration_seconds',
    help: 'Key generation latency',
    labelNames: ['scheme', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly errors = new Counter({ name: 'mpc_errors_total', help: 'Failed requests by cause', labelNames: ['operation', 'cause'], registers: [this.registry] });
  readonly invalidSignatures = new Counter({
    name: 'mpc_signature_verification_failures_total',
    help: 'Signatures produced by nodes that failed independent verification (never returned)',
    registers: [this.registry],
  });
  readonly retries = new Counter({ name: 'mpc_sign_retries_total', help: 'Signing attempts retried with another quorum', registers: [this.registry] });
  readonly blamed = new Counter({ name: 'mpc_nodes_blamed_total', help: 'Protocol aborts that named a culprit', labelNames: ['node'], registers: [this.registry] });
  readonly activeSessions = new Gauge({ name: 'mpc_active_sessions', help: 'Sessions in flight', registers: [this.registry] });
  readonly pings = new Counter({ name: 'mpc_heartbeat_pings_total', help: 'Heartbeat pings sent to nodes by this coordinator run', registers: [this.registry] });
  readonly nodesOnline = new Gauge({ name: 'mpc_nodes_online', help: 'Nodes answering heartbeats', registers: [this.registry] });
  readonly nodeOnline = new Gauge({ name: 'mpc_node_online', help: '1 while the node answers heartbeats, 0 when it does not', labelNames: ['node'], registers: [this.registry] });
  readonly quorumMargin = new Gauge({
    name: 'mpc_quorum_margin',
    help: 'The smallest, over active keys, of online holders minus threshold (0: no node may fail; below 0: a key cannot sign)',
    registers: [this.registry],
  });
  readonly lifecycleDuration = new Histogram({
    name: 'mpc_lifecycle_duration_seconds',
    help: 'Key lifecycle operations (refresh, repair, reshare, destroy) by outcome',
    labelNames: ['operation', 'outcome'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly presignHits = new Counter({ name: 'mpc_presign_hits_total', help: 'Sign requests that found a presignature in the pool', labelNames: ['scheme'], registers: [this.registry] });
  readonly presignMisses = new Counter({ name: 'mpc_presign_misses_total', help: 'Sign requests that found no presignature and signed in full', labelNames: ['scheme'], registers: [this.registry] });
  readonly presignRefill = new Histogram({
    name: 'mpc_presign_refill_duration_seconds',
    help: 'One presigning command of a background refill (a DKLs23 session, or a batch of FROST commitments)',
    labelNames: ['scheme'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly presignMade = new Counter({ name: 'mpc_presignatures_made_total', help: 'Presignatures added to the pools', labelNames: ['scheme'], registers: [this.registry] });
  readonly presignPool = new Gauge({ name: 'mpc_presign_pool_size', help: 'Unused presignatures in the pools', labelNames: ['scheme'], registers: [this.registry] });
  readonly presignPoolsLow = new Gauge({
    name: 'mpc_presign_pools_low',
    help: 'Pools below their low-water mark (refilling, failing to refill, or outrun by requests)',
    labelNames: ['scheme'],
    registers: [this.registry],
  });

  /** The engine's presignature hooks, wired to these metrics. */
  readonly presignObserver = {
    hit: (scheme: string) => this.presignHits.inc({ scheme }),
    miss: (scheme: string) => this.presignMisses.inc({ scheme }),
    refilled: (scheme: string, seconds: number, made: number) => {
      this.presignRefill.observe({ scheme }, seconds);
      this.presignMade.inc({ scheme }, made);
    },
  };

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** One sign request's end, from the engine's `observe.signed` hook. */
  observeSign(scheme: string, outcome: string, seconds: number): void {
    this.signDuration.observe({ scheme, outcome }, seconds);
    if (outcome !== 'ok') this.errors.inc({ operation: 'sign', cause: outcome });
  }

  /** Reads the service's health into the liveness gauges (on health calls and on every scrape). */
  private observeHealth(service: ObservedService): HealthReport {
    const h = service.health();
    this.nodesOnline.set(h.nodes.filter((n) => n.online).length);
    for (const n of h.nodes) this.nodeOnline.set({ node: String(n.id) }, n.online ? 1 : 0);
    this.activeSessions.set(service.activeSessions ?? 0);
    // The engine keeps the running total; the counter mirrors it (as the node's store counters do).
    this.pings.reset();
    this.pings.inc(service.pingsSent ?? 0);
    return h;
  }

  /** Wraps a SigningService so every call is timed and every failure counted by cause. */
  instrument(service: ObservedService): SigningService {
    // One timer for every operation: the histogram's labels, then ok or the failure's cause, which is also counted.
    const timed = async <T>(histogram: Histogram, operation: string, labels: Record<string, string>, f: () => Promise<T>): Promise<T> => {
      const end = histogram.startTimer(labels);
      try {
        const out = await f();
        end({ outcome: 'ok' });
        return out;
      } catch (e) {
        const cause = e instanceof ServiceError ? e.code : 'internal';
        end({ outcome: cause });
        this.errors.inc({ operation, cause });
        throw e;
      }
    };
    const lifecycle = <T>(operation: string, f: () => Promise<T>) => timed(this.lifecycleDuration, operation, { operation }, f);
    return {
      health: (): HealthReport => this.observeHealth(service),
      createKey: (req: CreateKeyRequest, ctx: RequestContext): Promise<KeyInfo> => timed(this.keygenDuration, 'keygen', { scheme: req.scheme }, () => service.createKey(req, ctx)),
      listKeys: (query: KeyQuery) => service.listKeys(query),
      getKey: async (id: string) => {
        const key = await service.getKey(id);
        if (!key) this.errors.inc({ operation: 'get_key', cause: 'key_not_found' });
        return key;
      },
      // Timed by the engine, which looks the key up anyway (see `observeSign`).
      sign: (keyId: string, req: SignRequest, ctx: RequestContext): Promise<SignResult> => service.sign(keyId, req, ctx),
      ...(service.setKeyStatus ? { setKeyStatus: service.setKeyStatus.bind(service) } : {}),
      ...(service.destroyKey ? { destroyKey: (id: string, ctx: RequestContext) => lifecycle('destroy', () => service.destroyKey!(id, ctx)) } : {}),
      ...(service.refreshKey ? { refreshKey: (id: string, ctx: RequestContext) => lifecycle('refresh', () => service.refreshKey!(id, ctx)) } : {}),
      ...(service.repairKey ? { repairKey: (id: string, node: number, ctx: RequestContext) => lifecycle('repair', () => service.repairKey!(id, node, ctx)) } : {}),
      ...(service.reshareKey
        ? { reshareKey: (id: string, req: { nodes: readonly number[]; threshold: number }, ctx: RequestContext) => lifecycle('reshare', () => service.reshareKey!(id, req, ctx)) }
        : {}),
      ...(service.policy ? { policy: service.policy.bind(service) } : {}),
      ...(service.proposePolicy ? { proposePolicy: service.proposePolicy.bind(service) } : {}),
      ...(service.submitForApproval ? { submitForApproval: service.submitForApproval.bind(service) } : {}),
      ...(service.pendingRequest ? { pendingRequest: service.pendingRequest.bind(service) } : {}),
      ...(service.approveRequest ? { approveRequest: service.approveRequest.bind(service) } : {}),
    };
  }

  async text(service: ObservedService): Promise<string> {
    const h = this.observeHealth(service);
    const online = new Set(h.nodes.filter((n) => n.online).map((n) => n.id));
    const active = (await everyKey(service)).filter((k) => k.status !== 'disabled');
    if (active.length) this.quorumMargin.set(Math.min(...active.map((k) => k.nodes.filter((n) => online.has(n)).length - k.threshold)));
    else this.quorumMargin.reset();
    this.presignPool.reset();
    this.presignPoolsLow.reset();
    for (const [scheme, { held, low }] of service.presignPoolStats?.() ?? []) {
      this.presignPool.set({ scheme }, held);
      this.presignPoolsLow.set({ scheme }, low);
    }
    return this.registry.metrics();
  }
}

/** Every key, page by page. */
async function everyKey(service: SigningService): Promise<KeyInfo[]> {
  const keys: KeyInfo[] = [];
  let cursor: string | undefined;
  do {
    const page = await service.listKeys({ limit: 1000, ...(cursor ? { cursor } : {}) });
    keys.push(...page.keys);
    cursor = page.next;
  } while (cursor);
  return keys;
}
