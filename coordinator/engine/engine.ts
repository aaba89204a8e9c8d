/**
 * The coordinator engine: implements the SigningService by driving the nodes over the
 * control plane. It is assembled from parts with one job each — liveness (heartbeats),
 * reputation (blame and quorum choice), dispatch (signed commands and their reports) — and one
 * module per operation (keygen, sign, lifecycle); this class wires them and routes reports.
 *
 * The engine never sees a share: nodes run the protocols among themselves and report only
 * public results (public keys, chain codes, signatures) or a failure with its culprits.
 */
import type { NodeReport } from '../../cluster/control.ts';
import { InvalidCursorError } from '../registry.ts';
import { ServiceError, type CreateKeyRequest, type HealthReport, type KeyInfo, type KeyPage, type KeyQuery, type KeyStatus, type NodeId, type RequestContext, type PolicyView, type SignRequest, type SignResult, type SigningService } from '../service.ts';
import type { EngineContext, EngineOptions } from './context.ts';
import { ENGINE_DEFAULTS } from './defaults.ts';
import { Dispatcher } from './dispatch.ts';
import { createKey } from './keygen.ts';
import { destroyKey, refreshKey, repairKey, reshareKey, setKeyStatus } from './lifecycle.ts';
import { Liveness } from './liveness.ts';
import { Reputation } from './reputation.ts';
import { sign } from './sign.ts';
import { PolicyKeeper } from './policy.ts';
import { PendingRequests, type PendingView } from './pending.ts';
import { PresignPools, type PoolStats, type SigningTarget } from './presign-pool.ts';
import type { AdminSignature } from '../../cluster/policy/administrators.ts';

export type { EngineOptions } from './context.ts';

export class Engine implements SigningService {
  private readonly ctx: EngineContext;

  constructor(opts: EngineOptions) {
    const policy = new PolicyKeeper({
      nodes: opts.nodes,
      send: opts.send,
      ...(opts.administrators ? { administrators: opts.administrators } : {}),
      ...(opts.policyStore ? { store: opts.policyStore } : {}),
    });
    const presign = new PresignPools(
      () => ({ registry: opts.registry, dispatch, liveness, reputation, attemptTimeoutMs: opts.attemptTimeoutMs ?? ENGINE_DEFAULTS.attemptTimeoutMs, ...(opts.log ? { log: opts.log } : {}) }),
      opts.presign ?? {},
      opts.observe?.presign,
    );
    const reputation = new Reputation({ suspectMs: opts.suspectMs ?? ENGINE_DEFAULTS.suspectMs, onSuspect: (node) => opts.observe?.blamed?.(node) });
    const liveness = new Liveness({
      nodes: opts.nodes,
      send: opts.send,
      heartbeatMs: opts.heartbeatMs ?? ENGINE_DEFAULTS.heartbeatMs,
      livenessMs: opts.livenessMs ?? ENGINE_DEFAULTS.livenessMs,
      // A node coming back (restart, healed partition) starts with a clean record, and gets
      // the policy version it may have missed.
      onBack: (node) => {
        reputation.clearFailures(node);
        void policy.pushTo([node]);
        // It may have restarted, and its presignatures died with its process.
        presign.forgetNode(node);
      },
    });
    const dispatch = new Dispatcher({
      send: opts.send,
      maxSessions: opts.maxSessions ?? ENGINE_DEFAULTS.maxSessions,
      unreachable: (node) => liveness.markOffline(node),
      ...(opts.log ? { log: opts.log } : {}),
    });
    this.ctx = { opts, liveness, reputation, dispatch, policy, presign };
    this.pending = new PendingRequests((key, request, rc) => sign(this.ctx, key.id, request, rc));
  }

  private readonly pending: PendingRequests;

  /** Loads the policy in force, then starts the heartbeat that tracks node liveness. */
  async start(): Promise<void> {
    await this.ctx.policy.load();
    this.ctx.liveness.start();
  }

  stop(): void {
    this.ctx.presign.stop();
    this.ctx.liveness.stop();
    this.ctx.dispatch.cancelAll();
  }

  get activeSessions(): number {
    return this.ctx.dispatch.activeSessions;
  }

  /** Presignatures held and pools below their low-water mark, per scheme (metrics). */
  presignPoolStats(): Map<string, PoolStats> {
    return this.ctx.presign.stats();
  }

  /** Presignatures held for one signing key. */
  presignPoolSize(target: SigningTarget): number {
    return this.ctx.presign.size(target);
  }

  get pingsSent(): number {
    return this.ctx.liveness.pingsSent;
  }

  /** Feed every message a node sends, with the node id the transport authenticated. */
  onReport(node: NodeId, report: NodeReport): void {
    this.ctx.liveness.heardFrom(node);
    if (report.type === 'pong') return;
    if (report.type === 'policy_status') return this.ctx.policy.onStatus(node, report);
    const session = Buffer.from(report.session).toString('hex');
    if (this.ctx.dispatch.route(node, session, report)) return;
    if (report.type === 'failed') this.ctx.reputation.lateFailure(session, node, report.culprits);
  }

  /** A node whose connection dropped is offline until it answers again. */
  markOffline(node: NodeId): void {
    this.ctx.liveness.markOffline(node);
  }

  isOnline(node: NodeId): boolean {
    return this.ctx.liveness.isOnline(node);
  }

  health(): HealthReport {
    const nodes = this.ctx.opts.nodes.map((id) => ({ id, online: this.isOnline(id) }));
    return { status: nodes.every((n) => n.online) ? 'ok' : 'degraded', nodes };
  }

  /** How much recent failures weigh against a node when quorums are chosen (0: none). */
  failureWeight(node: NodeId): number {
    return this.ctx.reputation.failureWeight(node);
  }

  /** Nodes blamed by a protocol abort, with the time until which they are avoided. */
  suspectedNodes(): Map<NodeId, number> {
    return this.ctx.reputation.suspectedNodes();
  }

  async listKeys(query: KeyQuery): Promise<KeyPage> {
    try {
      return this.ctx.opts.registry.page(query);
    } catch (e) {
      if (e instanceof InvalidCursorError) throw new ServiceError('invalid_request', e.message);
      throw e;
    }
  }

  async getKey(id: string): Promise<KeyInfo | undefined> {
    return this.ctx.opts.registry.get(id);
  }

  createKey(request: CreateKeyRequest, rc: RequestContext): Promise<KeyInfo> {
    return createKey(this.ctx, request, rc);
  }

  sign(keyId: string, request: SignRequest, rc: RequestContext): Promise<SignResult> {
    return sign(this.ctx, keyId, request, rc);
  }

  setKeyStatus(id: string, status: KeyStatus): Promise<KeyInfo> {
    return setKeyStatus(this.ctx, id, status);
  }

  refreshKey(id: string, rc: RequestContext): Promise<KeyInfo> {
    return refreshKey(this.ctx, id, rc);
  }

  reshareKey(id: string, request: { nodes: readonly NodeId[]; threshold: number }, rc: RequestContext): Promise<KeyInfo> {
    return reshareKey(this.ctx, id, request, rc);
  }

  repairKey(id: string, node: NodeId, rc: RequestContext): Promise<void> {
    return repairKey(this.ctx, id, node, rc);
  }

  destroyKey(id: string, rc: RequestContext): Promise<void> {
    return destroyKey(this.ctx, id, rc);
  }

  async submitForApproval(keyId: string, request: SignRequest, rc: RequestContext): Promise<PendingView> {
    const key = this.ctx.opts.registry.get(keyId);
    if (!key) throw new ServiceError('key_not_found', `no key ${keyId}`);
    if (key.status === 'disabled') throw new ServiceError('key_disabled', `key ${keyId} is disabled`);
    return this.pending.submit(this.ctx.policy.policy, key, request, rc);
  }

  pendingRequest(requestId: string): PendingView {
    return this.pending.get(requestId);
  }

  approveRequest(requestId: string, approver: string, signature: Uint8Array): PendingView {
    return this.pending.approve(this.ctx.policy.policy, requestId, approver, signature);
  }

  policy(): PolicyView {
    return this.ctx.policy.view();
  }

  /** A policy version with its administrators' signatures: checked, kept, and sent to every online node. */
  proposePolicy(document: Uint8Array, signatures: readonly AdminSignature[]): Promise<PolicyView> {
    return this.ctx.policy.propose(document, signatures, this.ctx.opts.nodes.filter((n) => this.isOnline(n)), 10_000);
  }
}
