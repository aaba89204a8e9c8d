/**
 * A whole cluster in one process: the real coordinator engine and node runtimes, joined by
 * an in-memory network that still encodes and decodes every message. Used by tests and by
 * the simulation harness; faults are injected through `link` (per-message hook) and `down`.
 */
import { generateKeyPairSync, randomBytes, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { Engine, type EngineOptions } from '../coordinator/engine.ts';
import { KeyRegistry } from '../coordinator/registry.ts';
import type { NodeId } from '../coordinator/service.ts';
import { decodeClusterMessage, encodeClusterMessage, type ClusterMessage, type CoordinatorMessage, type NodeReport } from '../cluster/control.ts';
import { NodeRuntime, type Sender, type ShareVault, type StoredKey } from '../node/runtime.ts';
import { partyId, type PartyId } from '../protocol/core/ids.ts';
import type { PartyAuth } from '../protocol/core/party.ts';

/** Where a message travels: `coordinator` or a node id. */
export type Endpoint = 'coordinator' | NodeId;

/**
 * Decides the fate of one message in flight: deliver now, later, several times, or never.
 * Returns the delays (ms) of each copy to deliver; `[]` drops it, `[0]` passes it as is.
 */
export type LinkHook = (from: Endpoint, to: Endpoint, message: ClusterMessage) => number[];

/** Share storage in memory; holds encoded shares as the sealed store would after unsealing. */
export class MemoryVault implements ShareVault {
  readonly shares = new Map<string, { key: StoredKey; epochs: Map<number, Uint8Array>; current: number; pending?: boolean; staged?: { epoch: number; key: StoredKey } }>();
  /** Simulates a slow provider (HSM/KMS round trip) on every unseal. */
  loadDelayMs = 0;
  async saveShare(key: StoredKey, share: Uint8Array, epoch = 0): Promise<void> {
    this.shares.set(key.keyId, { key, epochs: new Map([[epoch, Uint8Array.from(share)]]), current: epoch });
  }
  async loadShare(keyId: string) {
    if (this.loadDelayMs) await new Promise((r) => setTimeout(r, this.loadDelayMs));
    const s = this.shares.get(keyId);
    return s && !s.pending ? { key: s.key, share: Uint8Array.from(s.epochs.get(s.current)!), epoch: s.current, burned: [...(this.burned.get(keyId) ?? [])] } : undefined;
  }
  async hasKey(keyId: string): Promise<boolean> {
    return this.shares.has(keyId);
  }
  async stageEpoch(keyId: string, epoch: number, share: Uint8Array, committee?: StoredKey): Promise<void> {
    const s = this.shares.get(keyId);
    if ((!s || s.pending) && committee) {
      this.shares.set(keyId, { key: committee, epochs: new Map([[epoch, Uint8Array.from(share)]]), current: epoch, pending: true });
      return;
    }
    if (!s || epoch <= s.current) throw new Error(`cannot stage epoch ${epoch} of ${keyId}`);
    s.epochs.set(epoch, Uint8Array.from(share));
    // A new stage replaces the old one entirely, committee included (as ShareStore does): a
    // reshare interrupted before its commit must not move the committee of a later refresh.
    s.staged = committee ? { epoch, key: committee } : undefined;
  }
  async confirmEpoch(keyId: string, epoch: number): Promise<void> {
    const s = this.shares.get(keyId);
    if (!s) throw new Error(`no key ${keyId}`);
    if (s.pending && s.current === epoch) {
      s.pending = false;
      return;
    }
    if (s.current === epoch) return;
    if (!s.epochs.has(epoch)) throw new Error(`epoch ${epoch} of ${keyId} was never staged`);
    for (const e of [...s.epochs.keys()]) if (e < epoch) {
      s.epochs.get(e)!.fill(0);
      s.epochs.delete(e);
    }
    s.current = epoch;
    this.burned.delete(keyId);
    if (s.staged?.epoch === epoch) s.key = s.staged.key;
    s.staged = undefined;
  }
  async destroyKey(keyId: string): Promise<void> {
    for (const share of this.shares.get(keyId)?.epochs.values() ?? []) share.fill(0);
    this.shares.delete(keyId);
  }
  readonly burned = new Map<string, Set<PartyId>>();
  async burnPair(keyId: string, peer: PartyId, epoch: number): Promise<void> {
    if (this.shares.get(keyId)?.current !== epoch) return;
    if (!this.burned.has(keyId)) this.burned.set(keyId, new Set());
    this.burned.get(keyId)!.add(peer);
  }
  /** Every session id accepted, per key; survives a restart of the node's runtime, as a disk would. */
  readonly sessions = new Set<string>();
  async claimSession(keyId: string, session: string): Promise<boolean> {
    const k = `${keyId}/${session}`;
    if (this.sessions.has(k)) return false;
    this.sessions.add(k);
    return true;
  }
  async burnedPairs(keyId: string): Promise<PartyId[]> {
    return [...(this.burned.get(keyId) ?? [])];
  }
}

export interface MemoryClusterOptions {
  readonly nodes: number;
  readonly engine?: Partial<Pick<EngineOptions, 'attemptTimeoutMs' | 'keygenTimeoutMs' | 'heartbeatMs' | 'livenessMs' | 'maxSessions' | 'suspectMs'>>;
  readonly link?: LinkHook;
  readonly observe?: EngineOptions['observe'];
}

export class MemoryCluster {
  readonly engine: Engine;
  readonly runtimes = new Map<NodeId, NodeRuntime>();
  readonly vaults = new Map<NodeId, MemoryVault>();
  /** Each node's identity signer (the simulation's byzantine nodes sign what they forge). */
  readonly auths = new Map<NodeId, PartyAuth>();
  /** Every encoded message that crossed the network (for leak scans). */
  readonly wire: Uint8Array[] = [];
  recordWire = false;
  /**
   * The coordinator's signing key as a function: what an adversary that holds the coordinator's
   * identity can do (scenarios and tests send requests with it that the engine never would).
   */
  readonly signAsCoordinator: (input: Uint8Array) => Uint8Array;
  /** Every report a node sent to the coordinator, when `recordReports` is set. */
  readonly reports: { from: NodeId; report: NodeReport }[] = [];
  recordReports = false;
  private readonly down = new Set<NodeId>();
  private link: LinkHook | undefined;
  private readonly makeRuntime: (id: NodeId) => NodeRuntime;

  private constructor(engine: Engine, signAsCoordinator: (input: Uint8Array) => Uint8Array, makeRuntime: (cluster: MemoryCluster, id: NodeId) => NodeRuntime) {
    this.engine = engine;
    this.signAsCoordinator = signAsCoordinator;
    this.makeRuntime = (id) => makeRuntime(this, id);
  }

  static async create(opts: MemoryClusterOptions): Promise<MemoryCluster> {
    const ids = Array.from({ length: opts.nodes }, (_, i) => i + 1);
    const identities = new Map<NodeId, { priv: KeyObject; pub: KeyObject }>();
    for (const id of ids) {
      const k = generateKeyPairSync('ed25519');
      identities.set(id, { priv: k.privateKey, pub: k.publicKey });
    }
    const coordinatorKey = generateKeyPairSync('ed25519');
    let cluster: MemoryCluster | undefined;
    const engine = new Engine({
      nodes: ids,
      registry: await KeyRegistry.open(undefined),
      signRequest: (input) => edSign(null, input, coordinatorKey.privateKey),
      send: async (node, message) => {
        if (cluster!.down.has(node)) throw new Error(`node ${node} is down`);
        cluster!.transmit('coordinator', node, message);
      },
      heartbeatMs: 250,
      livenessMs: 2500,
      ...(opts.observe ? { observe: opts.observe } : {}),
      ...opts.engine,
    });
    const verifyPeer = (from: PartyId, message: Uint8Array, signature: Uint8Array) => {
      const k = identities.get(from);
      return !!k && signature.length === 64 && edVerify(null, message, k.pub, signature);
    };
    cluster = new MemoryCluster(
      engine,
      (input) => new Uint8Array(edSign(null, input, coordinatorKey.privateKey)),
      (c, id) =>
        new NodeRuntime({
          self: partyId(id),
          members: ids.map(partyId),
          auth: c.auths.get(id)!,
          vault: c.vaults.get(id)!,
          rng: (n) => new Uint8Array(randomBytes(n)),
          verifyCoordinator: (input, signature) => edVerify(null, input, coordinatorKey.publicKey, signature),
          send: (to, message) => c.transmit(id, to.role === 'coordinator' ? 'coordinator' : to.id, message),
        }),
    );
    cluster.link = opts.link;
    for (const id of ids) {
      const me = identities.get(id)!;
      cluster.auths.set(id, { sign: (m) => edSign(null, m, me.priv), verify: verifyPeer });
      cluster.vaults.set(id, new MemoryVault());
      cluster.runtimes.set(id, cluster.makeRuntime(id));
    }
    engine.start();
    return cluster;
  }

  setLink(link: LinkHook | undefined): void {
    this.link = link;
  }

  /** Crashes a node: it stops receiving and sending, and its running sessions are lost. */
  crash(node: NodeId): void {
    this.down.add(node);
    this.runtimes.get(node)!.close();
    this.engine.markOffline(node);
  }

  restart(node: NodeId): void {
    this.down.delete(node);
  }

  /**
   * Restarts a node's process: a new runtime over the same vault (its disk), with every
   * in-memory record (running sessions, retired pairs) gone.
   */
  restartProcess(node: NodeId): void {
    this.runtimes.get(node)!.close();
    this.runtimes.set(node, this.makeRuntime(node));
  }

  /** Delivers a message to a node as the coordinator (the attacker holding its identity may send anything). */
  sendAsCoordinator(node: NodeId, message: CoordinatorMessage): void {
    this.transmit('coordinator', node, message);
  }

  isDown(node: NodeId): boolean {
    return this.down.has(node);
  }

  /** Waits until the engine sees every live node online (after start or restarts). */
  async settle(timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const health = this.engine.health();
      if (health.nodes.every((n) => n.online === !this.down.has(n.id))) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('cluster did not settle');
  }

  close(): void {
    this.engine.stop();
    for (const r of this.runtimes.values()) r.close();
  }

  private transmit(from: Endpoint, to: Endpoint, message: ClusterMessage): void {
    if ((from !== 'coordinator' && this.down.has(from)) || (to !== 'coordinator' && this.down.has(to))) return;
    const delays = this.link ? this.link(from, to, message) : [0];
    const encoded = encodeClusterMessage(message);
    if (this.recordWire) this.wire.push(encoded);
    for (const delay of delays) {
      const deliver = () => this.deliver(from, to, encoded);
      if (delay <= 0) setImmediate(deliver); // a macrotask, like a real network: timers (heartbeats) interleave
      else setTimeout(deliver, delay);
    }
  }

  private deliver(from: Endpoint, to: Endpoint, encoded: Uint8Array): void {
    if ((from !== 'coordinator' && this.down.has(from)) || (to !== 'coordinator' && this.down.has(to))) return;
    const message = decodeClusterMessage(encoded);
    if (to === 'coordinator') {
      if (from === 'coordinator') return;
      if (this.recordReports) this.reports.push({ from, report: message as NodeReport });
      this.engine.onReport(from, message as NodeReport);
      return;
    }
    const sender: Sender = from === 'coordinator' ? { role: 'coordinator' } : { role: 'node', id: partyId(from) };
    void this.runtimes.get(to)!.handle(sender, message as CoordinatorMessage);
  }
}
