/**
 * The coordinator engine: implements the SigningService by driving the nodes over the
 * control plane. It tracks liveness, picks quorums, signs every request it hands to nodes,
 * retries a failed signing session with another quorum within the request's deadline, and
 * verifies every signature independently before returning it.
 *
 * The engine never sees a share: nodes run the protocols among themselves and report only
 * public results (public keys, chain codes, signatures) or a failure with its culprits.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { encodeCbor, type Bytes } from '../protocol/core/codec.ts';
import { partyId, sortedParties, type PartyId } from '../protocol/core/ids.ts';
import {
  confirmEpochRequestCodec,
  custodyViolation,
  destroyRequestCodec,
  inferredCustody,
  keygenRequestCodec,
  MAX_SIGN_MESSAGE_BYTES,
  refreshRequestCodec,
  repairRequestCodec,
  requestSigningInput,
  reshareRequestCodec,
  signRequestCodec,
  type CoordinatorMessage,
  type Custody,
  type NodeReport,
} from '../cluster/control.ts';
import { derive, DerivationError, parsePath } from '../protocol/derive.ts';
import { isScheme, schemeOf, signableMessageProblem } from '../protocol/schemes/index.ts';
import type { KeyRegistry } from './registry.ts';
import {
  ServiceError,
  type CreateKeyRequest,
  type HealthReport,
  type KeyInfo,
  type KeyStatus,
  type NodeId,
  type RequestContext,
  type Scheme,
  type SignRequest,
  type SignResult,
  type SigningService,
} from './service.ts';

export interface EngineOptions {
  /** Every node of the cluster manifest. */
  readonly nodes: readonly NodeId[];
  /** Sends to a node; rejects when it cannot be reached. */
  readonly send: (node: NodeId, message: CoordinatorMessage) => Promise<void>;
  /** Signs with the coordinator's identity key (nodes check it against the manifest). */
  readonly signRequest: (input: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  readonly registry: KeyRegistry;
  /** One signing attempt's time limit before the engine retries with another quorum (default 5 s). */
  readonly attemptTimeoutMs?: number;
  /** A key generation's time limit (default 120 s). */
  readonly keygenTimeoutMs?: number;
  /** Ping period (default 1 s); a node is online while it answered within `livenessMs` (default 3 s). */
  readonly heartbeatMs?: number;
  readonly livenessMs?: number;
  /** Threshold of new keys whose request names none (default: a majority of the key's nodes). */
  readonly defaultThreshold?: number;
  /** Sessions in flight before new requests get `overloaded` (default 256). */
  readonly maxSessions?: number;
  /** How long a node blamed by a protocol abort is left out of quorums (default 10 min). */
  readonly suspectMs?: number;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
  /** Hooks for metrics: an invalid signature caught, a retry, a blamed node. */
  readonly observe?: { invalidSignature?(): void; retry?(): void; blamed?(node: NodeId): void };
}

interface Pending {
  readonly nodes: readonly NodeId[];
  readonly onReport: (node: NodeId, report: NodeReport) => void;
}

type AttemptOutcome =
  | { readonly ok: true; readonly signature: Uint8Array; readonly recoveryId: number }
  | {
      readonly ok: false;
      /** What callers may see (see NodeReport `failed`); `reason` is for the log. */
      readonly code: string;
      readonly reason: string;
      readonly culprits: readonly NodeId[];
      readonly unresponsive: readonly NodeId[];
      readonly accuser?: NodeId;
      readonly timedOut?: true;
    };

const DEFAULT_THRESHOLD = (n: number) => Math.floor(n / 2) + 1;

export class Engine implements SigningService {
  private readonly opts: EngineOptions;
  private readonly lastSeen = new Map<NodeId, number>();
  private readonly suspects = new Map<NodeId, number>();
  /** Who named whom in abort reports, and when (see `blame`). */
  private readonly accusations = new Map<NodeId, Map<NodeId, number>>();
  /** Times at which each node took part in a failed attempt (last minute only). */
  private readonly recentFailures = new Map<NodeId, number[]>();
  /**
   * Failed sign attempts whose late abort reports still count as accusations: an attempt settles
   * on the first report, but the other signers' checks name the culprit too, and it takes two
   * different accusers to make a suspect.
   */
  private readonly endedAttempts = new Map<string, { readonly nodes: readonly NodeId[]; readonly until: number }>();
  private readonly pending = new Map<string, Pending>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** 8 random bytes for this run, then a counter: see the ping message. */
  private readonly pingPrefix = randomBytes(8);
  private pingCount = 0n;

  constructor(opts: EngineOptions) {
    this.opts = opts;
  }

  /** Starts the heartbeat that tracks node liveness. */
  start(): void {
    const ping = () => {
      for (const node of this.opts.nodes) this.ping(node);
    };
    ping();
    this.heartbeat = setInterval(ping, this.opts.heartbeatMs ?? 1000);
    this.heartbeat.unref();
  }

  stop(): void {
    clearInterval(this.heartbeat);
    for (const [session, p] of this.pending) for (const node of p.nodes) void this.cancel(node, session);
  }

  get activeSessions(): number {
    return this.pending.size;
  }

  /** Feed every message a node sends, with the node id the transport authenticated. */
  onReport(node: NodeId, report: NodeReport): void {
    // A node coming back (restart, healed partition) starts with a clean record.
    if (!this.isOnline(node)) this.recentFailures.delete(node);
    this.lastSeen.set(node, Date.now());
    if (report.type === 'pong') return;
    const session = Buffer.from(report.session).toString('hex');
    const p = this.pending.get(session);
    if (p && p.nodes.includes(node)) return p.onReport(node, report);
    const ended = this.endedAttempts.get(session);
    if (ended && ended.until > Date.now() && ended.nodes.includes(node) && report.type === 'failed') {
      this.blame(report.culprits.filter((c) => ended.nodes.includes(c as NodeId)), node);
    }
  }

  /** A node whose connection dropped is offline until it answers again. */
  markOffline(node: NodeId): void {
    this.lastSeen.delete(node);
  }

  isOnline(node: NodeId): boolean {
    const seen = this.lastSeen.get(node);
    return seen !== undefined && Date.now() - seen <= (this.opts.livenessMs ?? 3000);
  }

  health(): HealthReport {
    const nodes = this.opts.nodes.map((id) => ({ id, online: this.isOnline(id) }));
    return { status: nodes.every((n) => n.online) ? 'ok' : 'degraded', nodes };
  }

  async listKeys(): Promise<readonly KeyInfo[]> {
    return this.opts.registry.list();
  }

  async getKey(id: string): Promise<KeyInfo | undefined> {
    return this.opts.registry.get(id);
  }

  async createKey(request: CreateKeyRequest, ctx: RequestContext): Promise<KeyInfo> {
    if (!isScheme(request.scheme)) throw new ServiceError('unsupported', `scheme ${String(request.scheme)} is not available in this build`);
    const nodes = sortedParties(request.nodes ?? this.opts.nodes) as NodeId[];
    for (const n of nodes) if (!this.opts.nodes.includes(n)) throw new ServiceError('invalid_request', `node ${n} is not in the cluster`);
    const threshold = request.threshold ?? Math.min(this.opts.defaultThreshold ?? DEFAULT_THRESHOLD(nodes.length), nodes.length);
    if (!Number.isInteger(threshold) || threshold < 2 || threshold > nodes.length) {
      throw new ServiceError('invalid_request', `threshold must be an integer in [2, ${nodes.length}]`);
    }
    const offline = nodes.filter((n) => !this.isOnline(n));
    if (offline.length > 0) throw new ServiceError('quorum_unavailable', `key generation needs every chosen node online; offline: ${offline.join(', ')}`);
    this.admit();

    const keyId = randomUUID();
    const session = randomBytes(32) as Bytes;
    const sessionHex = Buffer.from(session).toString('hex');
    const custody = inferredCustody(threshold, nodes.map(partyId), this.opts.nodes.map(partyId));
    const request_ = encodeCbor(keygenRequestCodec, { session, keyId, scheme: request.scheme, threshold, parties: nodes.map(partyId), custody }) as Bytes;
    const signature = (await this.opts.signRequest(requestSigningInput('keygen', request_))) as Bytes;
    ctx.emit({ type: 'started', session: sessionHex, operation: 'keygen', keyId, nodes });

    const results = new Map<NodeId, { groupKey: string; chainCode: string }>();
    const deadline = Math.min(ctx.deadline, Date.now() + (this.opts.keygenTimeoutMs ?? 120_000));
    try {
      await this.collect(sessionHex, nodes, { type: 'keygen', request: request_, signature }, deadline, 'key generation did not finish in time', (node, report, { finish, fail }) => {
        if (report.type === 'failed') {
          const failure = this.nodeFailure('keygen', node, report, ctx.requestId);
          ctx.emit({ type: 'signer_failed', session: sessionHex, node, reason: failure });
          this.blame(report.culprits, node);
          fail(new ServiceError('internal', `key generation aborted by node ${node}: ${failure}`));
        } else if (report.type === 'keygen_done' && report.keyId === keyId) {
          results.set(node, { groupKey: Buffer.from(report.groupKey).toString('hex'), chainCode: Buffer.from(report.chainCode).toString('hex') });
          if (results.size === nodes.length) finish();
        }
      });
    } catch (e) {
      ctx.emit({ type: 'completed', session: sessionHex, ok: false, error: (e as Error).message });
      throw e;
    }
    const distinct = new Set([...results.values()].map((r) => `${r.groupKey}/${r.chainCode}`));
    if (distinct.size !== 1) throw new ServiceError('internal', 'nodes disagree on the generated public key');
    const { groupKey, chainCode } = results.values().next().value!;
    const groupKeyBytes = Buffer.from(groupKey, 'hex');
    const definition = schemeOf(request.scheme);
    const info: KeyInfo = {
      id: keyId,
      scheme: request.scheme,
      threshold,
      nodes,
      publicKey: Buffer.from(definition.userKey(groupKeyBytes)).toString('hex'),
      chainCode,
      groupKey,
      ...(definition.xpub ? { xpub: definition.xpub(groupKeyBytes, Buffer.from(chainCode, 'hex')) } : {}),
      createdAt: new Date().toISOString(),
      status: 'active',
      epoch: 0,
      custody,
    };
    await this.opts.registry.put(info);
    ctx.emit({ type: 'completed', session: sessionHex, ok: true });
    return info;
  }

  async sign(keyId: string, request: SignRequest, ctx: RequestContext): Promise<SignResult> {
    const key = this.opts.registry.get(keyId);
    if (!key) throw new ServiceError('key_not_found', `no key ${keyId}`);
    if (key.status === 'disabled') throw new ServiceError('key_disabled', `key ${keyId} is disabled`);
    checkMessage(key.scheme, request.message);
    const scheme = schemeOf(key.scheme);
    const child = request.derivationPath ? deriveChild(key, request.derivationPath) : undefined;
    this.admit();
    const publicKey = child ? child.publicKey : Buffer.from(key.publicKey, 'hex');
    const derivationPath = request.derivationPath ?? '';
    const failed = new Set<NodeId>();
    let lastReason = '';
    let lastCode = '';
    for (let attempt = 1; ; attempt++) {
      const remaining = ctx.deadline - Date.now();
      if (remaining <= 0) throw new ServiceError('deadline_exceeded', `signing did not finish in time${lastCode ? ` (last failure: ${lastCode})` : ''}`);
      const quorum = this.pickQuorum(key, failed);
      const session = randomBytes(32) as Bytes;
      const sessionHex = Buffer.from(session).toString('hex');
      if (attempt > 1) {
        this.opts.observe?.retry?.();
        ctx.emit({ type: 'retried', session: sessionHex, attempt, nodes: quorum });
      }
      ctx.emit({ type: 'started', session: sessionHex, operation: 'sign', keyId, nodes: quorum });
      const attemptMs = this.opts.attemptTimeoutMs ?? 5000;
      // A deadline the client set shorter than an attempt is the client's choice, not the nodes' fault.
      const clientCut = remaining < attemptMs;
      const outcome = await this.signAttempt(key.scheme, keyId, key.epoch ?? 0, session, quorum, request.message, derivationPath, Math.min(remaining, attemptMs));
      if (outcome.ok && scheme.verify(publicKey, request.message, outcome.signature, scheme.recoveryId ? outcome.recoveryId : undefined)) {
        for (const n of quorum) this.recentFailures.delete(n); // a quorum that signs has proven itself
        ctx.emit({ type: 'completed', session: sessionHex, ok: true });
        const result: SignResult = { signature: Buffer.from(outcome.signature).toString('hex'), publicKey: Buffer.from(publicKey).toString('hex'), signers: quorum };
        return scheme.recoveryId ? { ...result, recoveryId: outcome.recoveryId as 0 | 1 } : result;
      }
      if (outcome.ok) {
        // Never returned: an invalid signature means a node lied; leave the whole quorum out of the retry.
        lastReason = 'the nodes produced a signature that does not verify';
        lastCode = 'invalid_signature';
        this.opts.observe?.invalidSignature?.();
        for (const n of quorum) failed.add(n);
      } else {
        lastReason = outcome.reason;
        lastCode = outcome.code;
        this.blame(outcome.culprits, outcome.accuser);
        // An accusation is a dispute until corroborated: the retry leaves out the accused and the accuser.
        const disputed = outcome.culprits.length && outcome.accuser !== undefined ? [outcome.accuser] : [];
        const unresponsive = clientCut && outcome.timedOut ? [] : outcome.unresponsive;
        for (const n of [...outcome.culprits, ...unresponsive, ...disputed]) {
          failed.add(n);
          this.noteFailure(n);
          ctx.emit({ type: 'signer_failed', session: sessionHex, node: n, reason: outcome.code });
        }
      }
      ctx.emit({ type: 'completed', session: sessionHex, ok: false, error: lastCode });
      this.opts.log?.('sign_attempt_failed', { keyId, attempt, quorum, reason: lastReason });
    }
  }

  async setKeyStatus(id: string, status: KeyStatus): Promise<KeyInfo> {
    const key = this.opts.registry.get(id);
    if (!key) throw new ServiceError('key_not_found', `no key ${id}`);
    const next = { ...key, status };
    await this.opts.registry.put(next);
    return next;
  }

  /** A key's custody as its nodes keep it (the same rule `NodeRuntime.custodyOf` applies to older keys). */
  private custodyOf(key: KeyInfo): Custody {
    if (!key.custody) return inferredCustody(key.threshold, key.nodes.map(partyId), this.opts.nodes.map(partyId));
    return { ...key.custody, members: sortedParties(key.custody.members.map(partyId)) };
  }

  /**
   * Share repair: `node` lost its share (disk gone, store wiped); t other holders rebuild it for
   * it without anyone learning it. The node must be online with the key absent from its store.
   */
  async repairKey(id: string, node: NodeId, ctx: RequestContext): Promise<void> {
    const key = this.opts.registry.get(id);
    if (!key) throw new ServiceError('key_not_found', `no key ${id}`);
    if (!key.nodes.includes(node)) throw new ServiceError('invalid_request', `node ${node} holds no share of key ${id}`);
    const adapter = schemeOf(key.scheme).adapter;
    if (adapter?.repairByResharing) {
      if (!this.isOnline(node)) throw new ServiceError('quorum_unavailable', `node ${node} is offline`);
      await this.reshareKey(id, { nodes: key.nodes, threshold: key.threshold }, ctx, { notDealing: node });
      return;
    }
    if (!adapter?.repair) throw new ServiceError('unsupported', `repair is not available for ${key.scheme} yet`);
    if (!this.isOnline(node)) throw new ServiceError('quorum_unavailable', `node ${node} is offline`);
    const others = key.nodes.filter((n) => n !== node && this.isOnline(n) && (this.suspects.get(n) ?? 0) <= Date.now());
    if (others.length < key.threshold) throw new ServiceError('quorum_unavailable', `repair needs ${key.threshold} helpers online, ${others.length} are`);
    this.admit();
    const helpers = others.slice(0, key.threshold);
    const session = randomBytes(32) as Bytes;
    const sessionHex = Buffer.from(session).toString('hex');
    const encoded = encodeCbor(repairRequestCodec, { session, keyId: id, scheme: key.scheme, epoch: key.epoch ?? 0, lost: partyId(node), helpers: helpers.map(partyId), custody: this.custodyOf(key) }) as Bytes;
    const signature = (await this.opts.signRequest(requestSigningInput('repair', encoded))) as Bytes;
    const participants = [...helpers, node];
    await this.collect(sessionHex, participants, { type: 'repair', request: encoded, signature }, ctx.deadline, 'repair did not finish in time', (from, report, { finish, fail }) => {
      if (report.type === 'failed') {
        this.blame(report.culprits, node);
        fail(new ServiceError('internal', `repair aborted by node ${from}: ${this.nodeFailure('repair', from, report, ctx.requestId)}`));
      } else if (report.type === 'repair_done' && from === node && report.keyId === id) finish();
    });
  }

  /**
   * Resharing to a new committee and/or threshold, public key unchanged. Two-phase like
   * refresh: t old holders deal, every new holder stages its share; once all agree (same group
   * key, same new commitments) the registry commits the new committee and epoch, new holders
   * confirm, and removed holders are told to erase theirs.
   */
  async reshareKey(id: string, request: { nodes: readonly NodeId[]; threshold: number }, ctx: RequestContext, opts: { notDealing?: NodeId } = {}): Promise<KeyInfo> {
    const key = this.opts.registry.get(id);
    if (!key) throw new ServiceError('key_not_found', `no key ${id}`);
    if (!schemeOf(key.scheme).adapter?.reshare) throw new ServiceError('unsupported', `resharing is not available for ${key.scheme} yet`);
    const newNodes = sortedParties(request.nodes) as NodeId[];
    for (const n of newNodes) if (!this.opts.nodes.includes(n)) throw new ServiceError('invalid_request', `node ${n} is not in the cluster`);
    if (newNodes.length < 2 || new Set(newNodes).size !== newNodes.length) throw new ServiceError('invalid_request', 'the new committee needs at least 2 distinct nodes');
    if (!Number.isInteger(request.threshold) || request.threshold < 2 || request.threshold > newNodes.length) throw new ServiceError('invalid_request', `threshold must be an integer in [2, ${newNodes.length}]`);
    const custody = this.custodyOf(key);
    const broken = custodyViolation(custody, request.threshold, newNodes.map(partyId), this.opts.nodes.map(partyId));
    if (broken) throw new ServiceError('invalid_request', `resharing would break key ${id}'s custody: ${broken}`);
    const offline = newNodes.filter((n) => !this.isOnline(n));
    if (offline.length) throw new ServiceError('quorum_unavailable', `every new holder must be online; offline: ${offline.join(', ')}`);
    const candidates = key.nodes.filter((n) => n !== opts.notDealing && this.isOnline(n) && (this.suspects.get(n) ?? 0) <= Date.now());
    if (candidates.length < key.threshold) throw new ServiceError('quorum_unavailable', `resharing needs ${key.threshold} old holders online, ${candidates.length} are`);
    this.admit();
    const dealers = sortedParties(candidates.slice(0, key.threshold)) as NodeId[];
    const epoch = (key.epoch ?? 0) + 1;
    const participants = sortedParties([...new Set([...dealers, ...newNodes])]) as NodeId[];
    const session = randomBytes(32) as Bytes;
    const sessionHex = Buffer.from(session).toString('hex');
    const encoded = encodeCbor(reshareRequestCodec, { session, keyId: id, scheme: key.scheme, epoch, dealers: dealers.map(partyId), newParties: newNodes.map(partyId), newThreshold: request.threshold, custody }) as Bytes;
    const signature = (await this.opts.signRequest(requestSigningInput('reshare', encoded))) as Bytes;
    const done = new Map<NodeId, string>();
    await this.collect(sessionHex, participants, { type: 'reshare', request: encoded, signature }, ctx.deadline, 'resharing did not finish in time; the key keeps its committee', (node, report, { finish, fail }) => {
      if (report.type === 'failed') {
        this.blame(report.culprits, node);
        fail(new ServiceError('internal', `resharing aborted by node ${node}: ${this.nodeFailure('reshare', node, report, ctx.requestId)}; the key keeps its committee`));
      } else if (report.type === 'reshare_done' && report.keyId === id && report.epoch === epoch && newNodes.includes(node)) {
        if (key.groupKey && Buffer.from(report.groupKey).toString('hex') !== key.groupKey) return fail(new ServiceError('internal', `node ${node} reshared to another group key`));
        done.set(node, Buffer.from(report.commitmentsDigest).toString('hex'));
        if (done.size === newNodes.length) {
          if (new Set(done.values()).size !== 1) return fail(new ServiceError('internal', 'new holders disagree on the new commitments'));
          finish();
        }
      }
    });
    const next: KeyInfo = { ...key, nodes: newNodes, threshold: request.threshold, epoch };
    await this.opts.registry.put(next); // commit point
    const confirm = encodeCbor(confirmEpochRequestCodec, { session: randomBytes(32) as Bytes, keyId: id, epoch }) as Bytes;
    const confirmSignature = (await this.opts.signRequest(requestSigningInput('confirm_epoch', confirm))) as Bytes;
    for (const n of newNodes) void this.opts.send(n, { type: 'confirm_epoch', request: confirm, signature: confirmSignature }).catch(() => undefined);
    const removed = key.nodes.filter((n) => !newNodes.includes(n));
    if (removed.length) {
      const destroy = encodeCbor(destroyRequestCodec, { session: randomBytes(32) as Bytes, keyId: id }) as Bytes;
      const destroySignature = (await this.opts.signRequest(requestSigningInput('destroy', destroy))) as Bytes;
      for (const n of removed) void this.opts.send(n, { type: 'destroy', request: destroy, signature: destroySignature }).catch(() => undefined);
    }
    return next;
  }

  /**
   * Proactive refresh, two-phase: every holder computes and stages the next epoch's share; once
   * all have, the registry records the new epoch (the commit point) and the holders are told to
   * confirm it, erasing the old one. Before the commit, signing goes on with the old epoch; after
   * it, sign requests name the new epoch, so a holder whose confirm was lost confirms on first use.
   */
  async refreshKey(id: string, ctx: RequestContext): Promise<KeyInfo> {
    const key = this.opts.registry.get(id);
    if (!key) throw new ServiceError('key_not_found', `no key ${id}`);
    if (!schemeOf(key.scheme).adapter?.refresh) throw new ServiceError('unsupported', `refresh is not available for ${key.scheme} yet`);
    const offline = key.nodes.filter((n) => !this.isOnline(n));
    if (offline.length) throw new ServiceError('quorum_unavailable', `a refresh needs every holder online; offline: ${offline.join(', ')}`);
    this.admit();
    const epoch = (key.epoch ?? 0) + 1;
    const session = randomBytes(32) as Bytes;
    const sessionHex = Buffer.from(session).toString('hex');
    const encoded = encodeCbor(refreshRequestCodec, { session, keyId: id, epoch, parties: key.nodes.map(partyId) }) as Bytes;
    const signature = (await this.opts.signRequest(requestSigningInput('refresh', encoded))) as Bytes;
    ctx.emit({ type: 'started', session: sessionHex, operation: 'keygen', keyId: id, nodes: key.nodes });
    const done = new Set<NodeId>();
    const deadline = Math.min(ctx.deadline, Date.now() + (this.opts.keygenTimeoutMs ?? 120_000));
    try {
      await this.collect(sessionHex, key.nodes, { type: 'refresh', request: encoded, signature }, deadline, 'refresh did not finish in time; the key keeps its current epoch', (node, report, { finish, fail }) => {
        if (report.type === 'failed') {
          this.blame(report.culprits, node);
          fail(new ServiceError('internal', `refresh aborted by node ${node}: ${this.nodeFailure('refresh', node, report, ctx.requestId)}; the key keeps its current epoch`));
        } else if (report.type === 'refresh_done' && report.keyId === id && report.epoch === epoch) {
          if (key.groupKey && Buffer.from(report.groupKey).toString('hex') !== key.groupKey) return fail(new ServiceError('internal', `node ${node} refreshed to another group key`));
          done.add(node);
          if (done.size === key.nodes.length) finish();
        }
      });
    } catch (e) {
      ctx.emit({ type: 'completed', session: sessionHex, ok: false, error: (e as Error).message });
      throw e;
    }
    const next: KeyInfo = { ...key, epoch };
    await this.opts.registry.put(next); // commit point
    const confirm = encodeCbor(confirmEpochRequestCodec, { session: randomBytes(32) as Bytes, keyId: id, epoch }) as Bytes;
    const confirmSignature = (await this.opts.signRequest(requestSigningInput('confirm_epoch', confirm))) as Bytes;
    for (const node of key.nodes) void this.opts.send(node, { type: 'confirm_epoch', request: confirm, signature: confirmSignature }).catch(() => undefined);
    ctx.emit({ type: 'completed', session: sessionHex, ok: true });
    return next;
  }

  /**
   * Crypto-shredding: every node of the key erases all its epochs, then the key is forgotten.
   * Needs every node online (a share left behind on an offline node would survive); the call
   * can be repeated until it succeeds, since erasing is idempotent.
   */
  async destroyKey(id: string, ctx: RequestContext): Promise<void> {
    const key = this.opts.registry.get(id);
    if (!key) throw new ServiceError('key_not_found', `no key ${id}`);
    const offline = key.nodes.filter((n) => !this.isOnline(n));
    if (offline.length) throw new ServiceError('quorum_unavailable', `destroying a key needs all its nodes online; offline: ${offline.join(', ')}`);
    if (key.status !== 'disabled') await this.setKeyStatus(id, 'disabled'); // no signing while shares are being erased
    const session = randomBytes(32) as Bytes;
    const sessionHex = Buffer.from(session).toString('hex');
    const encoded = encodeCbor(destroyRequestCodec, { session, keyId: id }) as Bytes;
    const signature = (await this.opts.signRequest(requestSigningInput('destroy', encoded))) as Bytes;
    const done = new Set<NodeId>();
    await this.collect(sessionHex, key.nodes, { type: 'destroy', request: encoded, signature }, ctx.deadline, () => `nodes ${key.nodes.filter((n) => !done.has(n)).join(', ')} did not confirm erasure`, (node, report, { finish }) => {
      if (report.type !== 'destroyed' || report.keyId !== id) return;
      done.add(node);
      if (done.size === key.nodes.length) finish();
    });
    await this.opts.registry.delete(id);
  }

  /** Chooses `t` online signers, avoiding suspects and nodes that failed this request. */
  private pickQuorum(key: KeyInfo, failed: ReadonlySet<NodeId>): NodeId[] {
    const now = Date.now();
    const online = key.nodes.filter((n) => this.isOnline(n));
    if (online.length < key.threshold) {
      throw new ServiceError('quorum_unavailable', `key needs ${key.threshold} signers, ${online.length} of its nodes are online`);
    }
    // Blamed nodes last, then nodes that failed this request, then nodes that failed often lately:
    // a node that silently stalls sessions ends up left out without any proof against it.
    // Recent failures weigh less as they age (5 s half-life), so a node that recovered is tried again.
    const rank = (n: NodeId) =>
      ((this.suspects.get(n) ?? 0) > now ? 1_000_000 : 0) +
      (failed.has(n) ? 10_000 : 0) +
      this.failureWeight(n);
    const shuffled = online.map((n) => ({ n, r: rank(n), tie: Math.random() })).sort((a, b) => a.r - b.r || a.tie - b.tie);
    return sortedParties(shuffled.slice(0, key.threshold).map((x) => x.n)) as NodeId[];
  }

  private async signAttempt(
    scheme: Scheme,
    keyId: string,
    epoch: number,
    session: Bytes,
    quorum: readonly NodeId[],
    message: Uint8Array,
    derivationPath: string,
    timeoutMs: number,
  ): Promise<AttemptOutcome> {
    const sessionHex = Buffer.from(session).toString('hex');
    const encoded = encodeCbor(signRequestCodec, { session, keyId, scheme, message: message as Bytes, derivationPath, epoch, signers: quorum.map(partyId) }) as Bytes;
    const signature = (await this.opts.signRequest(requestSigningInput('sign', encoded))) as Bytes;
    const reported = new Set<NodeId>();
    const outcome = await new Promise<AttemptOutcome>((resolve) => {
      const timer = setTimeout(() => {
        resolve({ ok: false, code: 'timeout', reason: `no signature within ${timeoutMs} ms`, culprits: [], unresponsive: quorum.filter((n) => !reported.has(n)), timedOut: true });
      }, timeoutMs);
      const settle = (o: AttemptOutcome) => {
        clearTimeout(timer);
        resolve(o);
      };
      this.pending.set(sessionHex, {
        nodes: quorum,
        onReport: (node, report) => {
          reported.add(node);
          if (report.type === 'sign_done') settle({ ok: true, signature: report.signature, recoveryId: report.recoveryId });
          else if (report.type === 'failed') {
            // With culprits, the protocol proved who misbehaved; without, the reporter itself could not go on.
            const culprits = report.culprits.filter((c) => quorum.includes(c));
            settle({ ok: false, code: report.code, reason: `node ${node}: ${report.reason}`, culprits, unresponsive: culprits.length ? [] : [node], accuser: node });
          }
        },
      });
      for (const node of quorum) {
        this.opts.send(node, { type: 'sign', request: encoded, signature }).catch(() => {
          this.markOffline(node);
          settle({ ok: false, code: 'unreachable', reason: `node ${node} is unreachable`, culprits: [], unresponsive: [node] });
        });
      }
    });
    this.pending.delete(sessionHex);
    if (!outcome.ok) {
      const now = Date.now();
      for (const [id, a] of this.endedAttempts) if (a.until <= now) this.endedAttempts.delete(id);
      this.endedAttempts.set(sessionHex, { nodes: quorum, until: now + 30_000 });
      for (const node of quorum) void this.cancel(node, sessionHex);
    }
    return outcome;
  }

  /**
   * A node's failure reason goes to the coordinator's log in full; callers see only its code
   * (node reasons can name internal state: keys, epochs, peers, paths).
   */
  private nodeFailure(operation: string, node: NodeId, report: { code: string; reason: string }, requestId: string): string {
    this.opts.log?.('node_failed', { operation, node, requestId, code: report.code, reason: report.reason });
    return `${report.code} (details in the coordinator log, request ${requestId})`;
  }

  /** How much recent failures weigh against a node when quorums are chosen (0: none). */
  failureWeight(node: NodeId): number {
    const now = Date.now();
    return (this.recentFailures.get(node) ?? []).reduce((acc, t) => acc + Math.pow(0.5, (now - t) / 5000), 0);
  }

  private noteFailure(node: NodeId): void {
    const now = Date.now();
    const times = (this.recentFailures.get(node) ?? []).filter((t) => t > now - 60_000);
    times.push(now);
    this.recentFailures.set(node, times.slice(-100));
  }

  /**
   * Records that `accuser` named `culprits`. The coordinator cannot check a node's abort report
   * (a byzantine aggregator could name honest signers), so a node is only excluded from quorums
   * once two different nodes have named it within the suspicion window; until then both sides
   * of the dispute merely count as recent failures.
   */
  private blame(culprits: readonly PartyId[] | readonly NodeId[], accuser?: NodeId): void {
    const now = Date.now();
    const window = this.opts.suspectMs ?? 10 * 60_000;
    for (const c of culprits) {
      if (c === accuser) continue;
      const accusers = this.accusations.get(c) ?? new Map<NodeId, number>();
      for (const [a, at] of accusers) if (at < now - window) accusers.delete(a);
      accusers.set(accuser ?? -1, now);
      this.accusations.set(c, accusers);
      if (accusers.size >= 2 && !((this.suspects.get(c) ?? 0) > now)) {
        this.suspects.set(c, now + window);
        this.opts.observe?.blamed?.(c);
      }
    }
  }

  /** Nodes blamed by a protocol abort, with the time until which they are avoided. */
  suspectedNodes(): Map<NodeId, number> {
    const now = Date.now();
    return new Map([...this.suspects].filter(([, until]) => until > now));
  }

  private admit(): void {
    if (this.pending.size >= (this.opts.maxSessions ?? 256)) throw new ServiceError('overloaded', 'too many sessions in flight; retry later');
  }

  private ping(node: NodeId): void {
    const nonce = Buffer.alloc(16);
    this.pingPrefix.copy(nonce);
    nonce.writeBigUInt64BE(this.pingCount++, 8);
    this.opts.send(node, { type: 'ping', nonce: new Uint8Array(nonce) as Bytes }).catch(() => this.markOffline(node));
  }

  /**
   * Sends one signed command to `nodes` and waits on their reports until `onReport` calls
   * `finish()` or `fail(error)`. The deadline, or a node that cannot be reached, fails it; on
   * failure every participant is told to drop the session.
   */
  private async collect(
    sessionHex: string,
    nodes: readonly NodeId[],
    command: CoordinatorMessage,
    deadline: number,
    timeoutMessage: string | (() => string),
    onReport: (node: NodeId, report: NodeReport, settle: { finish(): void; fail(error: ServiceError): void }) => void,
  ): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const timer = setTimeout(() => fail(new ServiceError('deadline_exceeded', typeof timeoutMessage === 'string' ? timeoutMessage : timeoutMessage())), Math.max(0, deadline - Date.now()));
        const finish = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve();
        };
        const fail = (error: ServiceError) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(error);
        };
        this.pending.set(sessionHex, { nodes, onReport: (node, report) => onReport(node, report, { finish, fail }) });
        for (const node of nodes) {
          this.opts.send(node, command).catch(() => {
            this.markOffline(node);
            fail(new ServiceError('quorum_unavailable', `node ${node} is unreachable`));
          });
        }
      });
    } catch (e) {
      for (const node of nodes) void this.cancel(node, sessionHex);
      throw e;
    } finally {
      this.pending.delete(sessionHex);
    }
  }

  private async cancel(node: NodeId, sessionHex: string): Promise<void> {
    await this.opts.send(node, { type: 'cancel', session: Buffer.from(sessionHex, 'hex') as Bytes }).catch(() => undefined);
  }
}

/** Message format per scheme (the API checks the same; the engine does not trust its caller). */
export function checkMessage(scheme: Scheme, message: Uint8Array): void {
  const problem = signableMessageProblem(scheme, message);
  if (problem) throw new ServiceError('invalid_request', problem);
}

/** The child a signed path leads to: its user-facing public key (what the signature verifies under). */
function deriveChild(key: KeyInfo, path: string): { publicKey: Uint8Array } {
  let steps: number[];
  try {
    steps = parsePath(path);
  } catch (e) {
    throw new ServiceError(e instanceof DerivationError && e.code === 'hardened' ? 'unsupported' : 'invalid_request', (e as Error).message);
  }
  if (!key.groupKey) throw new ServiceError('unsupported', 'this key predates derivation support');
  try {
    const scheme = schemeOf(key.scheme);
    const child = derive(scheme.curve, Buffer.from(key.groupKey, 'hex'), Buffer.from(key.chainCode, 'hex'), steps);
    return { publicKey: scheme.userKey(child.publicKey) };
  } catch (e) {
    throw new ServiceError('invalid_request', (e as Error).message);
  }
}

