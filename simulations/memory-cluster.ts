/**
 * A whole cluster in one process: the real coordinator engine, node runtimes, share ledgers
 * and cluster links (signed envelopes, replay guard), joined by an in-memory network in place
 * of libp2p. Used by tests and by the simulation harness; faults are injected through `link`
 * (per-message hook) and by crashing nodes.
 */
import { generateKeyPairSync, randomBytes, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { Engine, type EngineOptions } from '../coordinator/engine/engine.ts';
import { KeyRegistry } from '../coordinator/registry.ts';
import type { NodeId } from '../coordinator/service.ts';
import type { ClusterMessage, CoordinatorMessage, NodeReport } from '../cluster/control.ts';
import { ClusterLink } from '../cluster/link.ts';
import { COORDINATOR, nodeMember, nodeNumber } from '../cluster/transport/manifest.ts';
import type { MemberId } from '../cluster/transport/types.ts';
import { NodeRuntime } from '../node/runtime.ts';
import type { AuditEntry } from '../node/operations/context.ts';
import { MemoryBackend } from '../node/store/backend.ts';
import { ShareSealer } from '../node/store/sealer.ts';
import { ShareStore } from '../node/store/share-store.ts';
import { partyId } from '../protocol/core/ids.ts';
import type { PartyAuth } from '../protocol/core/party.ts';
import { MemoryProtector } from './memory-protector.ts';
import { MemoryNetwork } from './memory-network.ts';
import type { Administrators } from '../cluster/transport/manifest.ts';
import { administratorsOf, type AdminKey } from './administrators.ts';

/** Where a message travels: `coordinator` or a node id. */
export type Endpoint = 'coordinator' | NodeId;

/**
 * Decides the fate of one message in flight: deliver now, later, several times, or never.
 * Returns the delays (ms) of each copy to deliver; `[]` drops it, `[0]` passes it as is.
 */
export type LinkHook = (from: Endpoint, to: Endpoint, message: ClusterMessage) => number[];

/** A node's disk in the simulation: the node's own ledger (`ShareStore`) over memory, sealed by a memory protector. */
function memoryVault(node: NodeId, protector: MemoryProtector): ShareStore {
  // No unseal cache: every signature unseals, so a slow provider (`protector.delayMs`) shows on each.
  return new ShareStore({ backend: new MemoryBackend(), sealer: new ShareSealer(protector), nodeId: nodeMember(node), cacheTtlMs: 0 });
}

export interface MemoryClusterOptions {
  readonly nodes: number;
  readonly engine?: Partial<Pick<EngineOptions, 'attemptTimeoutMs' | 'keygenTimeoutMs' | 'heartbeatMs' | 'livenessMs' | 'maxSessions' | 'suspectMs' | 'presign'>>;
  readonly link?: LinkHook;
  /** Protocol worker threads per node (node/session/worker-pool.ts); none by default. */
  readonly protocolWorkers?: number;
  readonly observe?: EngineOptions['observe'];
  /** The coordinator's key registry (default: a new one in memory). */
  readonly registry?: KeyRegistry;
  /** Policy administrators, as a cluster manifest would list them (none: no policy can be applied). */
  readonly administrators?: Administrators;
  /** Or their keys (the scenarios sign policies with them): `threshold` of them sign a version. */
  readonly administratorKeys?: { readonly threshold: number; readonly keys: readonly AdminKey[] };
}

export class MemoryCluster {
  readonly engine: Engine;
  readonly runtimes = new Map<NodeId, NodeRuntime>();
  /** Each node's share ledger (its disk: survives `restartProcess`). */
  readonly vaults = new Map<NodeId, ShareStore>();
  /** Each node's provider; set `delayMs` to make its unseals slow. */
  readonly protectors = new Map<NodeId, MemoryProtector>();
  /** The policy administrators the nodes accept. */
  administrators?: Administrators;
  /** Each node's identity signer (the simulation's byzantine nodes sign what they forge). */
  readonly auths = new Map<NodeId, PartyAuth>();
  /**
   * The coordinator's signing key as a function: what an adversary that holds the coordinator's
   * identity can do (scenarios and tests send requests with it that the engine never would).
   */
  readonly signAsCoordinator: (input: Uint8Array) => Uint8Array;
  /** Every report a node sent to the coordinator, when `recordReports` is set. */
  readonly reports: { from: NodeId; report: NodeReport }[] = [];
  recordReports = false;
  /** Every node's log lines (what a node refused and why), when `recordLogs` is set. */
  readonly logs: { node: NodeId; event: string; fields: Record<string, unknown> }[] = [];
  recordLogs = false;
  /** Every node's audit entries, when `recordAudits` is set. */
  readonly audits: { node: NodeId; entry: AuditEntry }[] = [];
  recordAudits = false;
  /**
   * Each node's audit-log disk: when set, an append is on disk when the returned promise
   * resolves (never, for a disk that stalls) and fails when it rejects. Unset: at once.
   */
  auditDisk?: (node: NodeId, entry: AuditEntry) => Promise<void>;
  private readonly network: MemoryNetwork;
  private readonly links = new Map<NodeId, ClusterLink>();
  private readonly coordinatorLink: ClusterLink;
  private readonly makeRuntime: (id: NodeId) => NodeRuntime;

  private constructor(parts: {
    engine: Engine;
    network: MemoryNetwork;
    coordinatorLink: ClusterLink;
    signAsCoordinator: (input: Uint8Array) => Uint8Array;
    makeRuntime: (cluster: MemoryCluster, id: NodeId) => NodeRuntime;
  }) {
    this.engine = parts.engine;
    this.network = parts.network;
    this.coordinatorLink = parts.coordinatorLink;
    this.signAsCoordinator = parts.signAsCoordinator;
    this.makeRuntime = (id) => parts.makeRuntime(this, id);
  }

  static async create(options: MemoryClusterOptions): Promise<MemoryCluster> {
    const fromKeys = options.administratorKeys && administratorsOf(options.administratorKeys.threshold, options.administratorKeys.keys);
    const opts: MemoryClusterOptions = fromKeys ? { ...options, administrators: fromKeys } : options;
    const ids = Array.from({ length: opts.nodes }, (_, i) => i + 1);
    const keys = new Map<MemberId, { priv: KeyObject; pub: KeyObject }>();
    for (const member of [COORDINATOR, ...ids.map(nodeMember)]) {
      const k = generateKeyPairSync('ed25519');
      keys.set(member, { priv: k.privateKey, pub: k.publicKey });
    }
    const signer = (member: MemberId) => (input: Uint8Array) => new Uint8Array(edSign(null, input, keys.get(member)!.priv));
    const verify = (member: string, input: Uint8Array, signature: Uint8Array) => {
      const k = keys.get(member as MemberId);
      return !!k && signature.length === 64 && edVerify(null, input, k.pub, signature);
    };
    const network = new MemoryNetwork(new Map([...keys.keys()].map((m) => [m, signer(m)])));
    const linkOf = (member: MemberId) => new ClusterLink({ transport: network.transport(member), sign: signer(member), verify });
    const coordinatorLink = linkOf(COORDINATOR);
    const engine = new Engine({
      nodes: ids,
      registry: opts.registry ?? (await KeyRegistry.open(undefined)),
      send: (node, message) => coordinatorLink.send({ role: 'node', id: partyId(node) }, message),
      heartbeatMs: 250,
      livenessMs: 2500,
      ...(opts.observe ? { observe: opts.observe } : {}),
      ...(opts.administrators ? { administrators: opts.administrators } : {}),
      ...opts.engine,
    });
    const cluster = new MemoryCluster({
      engine,
      network,
      coordinatorLink,
      signAsCoordinator: signer(COORDINATOR),
      makeRuntime: (c, id) =>
        new NodeRuntime({
          self: partyId(id),
          members: ids.map(partyId),
          auth: c.auths.get(id)!,
          vault: c.vaults.get(id)!,
          policy: c.vaults.get(id)!.policy,
          ...(c.administrators ? { administrators: c.administrators } : {}),
          vendor: 'local', // the memory protector stands in for the local provider
          rng: (n) => new Uint8Array(randomBytes(n)),
          ...(opts.protocolWorkers ? { protocolWorkers: opts.protocolWorkers } : {}),
          send: (to, message) => void c.links.get(id)!.send(to, message).catch(() => undefined),
          log: (event, fields) => {
            if (c.recordLogs) c.logs.push({ node: id, event, fields });
          },
          audit: async (entry) => {
            if (c.recordAudits) c.audits.push({ node: id, entry });
            await c.auditDisk?.(id, entry);
          },
        }),
    });
    coordinatorLink.onMessage((from, message) => {
      if (from.role !== 'node') return;
      if (cluster.recordReports) cluster.reports.push({ from: from.id, report: message as NodeReport });
      engine.onReport(from.id, message as NodeReport);
    });
    cluster.setLink(opts.link);
    if (opts.administrators) cluster.administrators = opts.administrators;
    for (const id of ids) {
      const protector = new MemoryProtector();
      cluster.protectors.set(id, protector);
      cluster.auths.set(id, { sign: signer(nodeMember(id)), verify: (from, m, sig) => verify(nodeMember(from), m, sig) });
      cluster.vaults.set(id, memoryVault(id, protector));
      const link = linkOf(nodeMember(id));
      cluster.links.set(id, link);
      // Messages go to whichever runtime the node runs now (see `restartProcess`).
      link.onMessage((from, message) => void cluster.runtimes.get(id)?.handle(from, message as CoordinatorMessage));
      cluster.runtimes.set(id, cluster.makeRuntime(id));
    }
    await engine.start();
    return cluster;
  }

  /** Every frame that crossed the network (for leak scans), when `recordWire` is set. */
  get wire(): readonly Uint8Array[] {
    return this.network.wire;
  }

  set recordWire(on: boolean) {
    this.network.recordWire = on;
  }

  setLink(link: LinkHook | undefined): void {
    this.network.hook = link && ((from, to, message) => link(endpointOf(from), endpointOf(to), message));
  }

  /** Crashes a node: it stops receiving and sending, and its running sessions are lost. */
  crash(node: NodeId): void {
    this.network.setDown(nodeMember(node), true);
    this.runtimes.get(node)!.close();
    this.engine.markOffline(node);
  }

  /** Brings a crashed node back as a new process over its ledger (`restartProcess`). */
  restart(node: NodeId): void {
    this.restartProcess(node);
    this.network.setDown(nodeMember(node), false);
  }

  /**
   * Restarts a node's process: a new runtime over the same ledger (its disk), with every
   * in-memory record (running sessions, retired pairs, unsealed shares, presignatures) gone.
   */
  restartProcess(node: NodeId): void {
    this.runtimes.get(node)!.close();
    this.vaults.set(node, this.vaults.get(node)!.reopened());
    this.runtimes.set(node, this.makeRuntime(node));
  }

  /** Delivers a message to a node as the coordinator (the attacker holding its identity may send anything). */
  sendAsCoordinator(node: NodeId, message: CoordinatorMessage): void {
    void this.coordinatorLink.send({ role: 'node', id: partyId(node) }, message).catch(() => undefined);
  }

  /** Sends `message` from node `from`'s own link (sealed with its key): a corrupted node's doing. */
  sendAsNode(from: NodeId, to: NodeId, message: ClusterMessage): void {
    void this.links.get(from)!.send({ role: 'node', id: partyId(to) }, message).catch(() => undefined);
  }

  isDown(node: NodeId): boolean {
    return this.network.isDown(nodeMember(node));
  }

  /** Waits until the engine sees every live node online (after start or restarts). */
  async settle(timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const health = this.engine.health();
      if (health.nodes.every((n) => n.online === !this.isDown(n.id))) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('cluster did not settle');
  }

  close(): void {
    this.engine.stop();
    for (const r of this.runtimes.values()) r.close();
  }
}

const endpointOf = (member: MemberId): Endpoint => nodeNumber(member) ?? 'coordinator';
