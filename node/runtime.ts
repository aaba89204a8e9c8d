/**
 * The node's session runner front door: checks every coordinator request (its signature over
 * the exact encoding, domain-separated per request type; its session id claimed once per key,
 * ever), hands it to the operation that serves it (`operations/`), and relays protocol
 * messages from peers to the running sessions (`session/runner.ts`).
 *
 * It sees only decoded cluster messages and the authenticated sender the link vouches for, so
 * it runs the same over libp2p and over the simulation harness's in-memory network. Any abort
 * destroys the session's secrets (the protocol core does that, and the decoded share is wiped
 * when the session ends) and is reported to the coordinator with its culprits.
 */
import { decode as decodeLoose } from 'cbor-x';
import { requestCodec, type ClusterMessage, type CoordinatorMessage, type RequestOf, type RequestType } from '../cluster/control.ts';
import type { Peer } from '../cluster/link.ts';
import { decodeCbor, type Bytes } from '../protocol/core/codec.ts';
import { DecodeError } from '../protocol/core/errors.ts';
import { sessionId, type PartyId, type Rng, type SessionId } from '../protocol/core/ids.ts';
import type { PartyAuth } from '../protocol/core/party.ts';
import type { AuditEntry, NodeContext } from './operations/context.ts';
import { startKeygen } from './operations/keygen.ts';
import { startRefresh, startRepair, startReshare } from './operations/lifecycle.ts';
import { startSign } from './operations/sign.ts';
import { startPresign } from './operations/presign.ts';
import { applyPolicy } from './operations/policy-update.ts';
import type { PolicyLedger } from './store/policy-ledger.ts';
import type { Administrators } from '../cluster/transport/manifest.ts';
import { ProtocolWorkers } from './session/worker-pool.ts';
import { PairRetirement } from './session/pair-retirement.ts';
import { DEFAULT_SESSION_TIMEOUT_MS, SessionRunner } from './session/runner.ts';
import type { ShareVault } from './store/types.ts';

export type { ShareVault, StoredKey } from './store/types.ts';
export type { AuditEntry } from './operations/context.ts';

/** Who sent a message, as the cluster link authenticated it. */
export type Sender = Peer;

export interface NodeRuntimeOptions {
  readonly self: PartyId;
  /** Every node of the cluster manifest: no key may ever be held outside it. */
  readonly members: readonly PartyId[];
  /** Signs this node's reliable-broadcast digests and verifies its peers' (identity keys). */
  readonly auth: PartyAuth;
  readonly vault: ShareVault;
  /** The node's policy state (kept in the same ledger as its shares). */
  readonly policy: PolicyLedger;
  /** Who may sign policy versions: the cluster manifest's administrators (none: no policy can be applied). */
  readonly administrators?: Administrators;
  /** The vendor protecting this node's shares, for placement rules (`local`, `aws`, `pkcs11`…). */
  readonly vendor: string;
  readonly rng: Rng;
  /** Sends to the coordinator or a peer node; delivery failures surface as session timeouts. */
  readonly send: (to: Sender, message: ClusterMessage) => void;
  readonly audit?: (entry: AuditEntry) => void | Promise<void>;
  /** Called once per session that ends (metrics). */
  readonly onSessionEnd?: (outcome: 'completed' | 'failed') => void;
  /** Longest a session may run before it is cancelled (default 60 s). */
  readonly sessionTimeoutMs?: number;
  /**
   * Protocol worker threads for signing and presigning sessions (worker-pool.ts); 0 or absent:
   * every session runs on the main thread.
   */
  readonly protocolWorkers?: number;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

const COORDINATOR: Peer = { role: 'coordinator' };

export class NodeRuntime {
  private readonly opts: NodeRuntimeOptions;
  private readonly sessions: SessionRunner;
  private readonly ctx: NodeContext;
  private readonly workers: ProtocolWorkers | undefined;

  constructor(opts: NodeRuntimeOptions) {
    this.opts = opts;
    const log = (event: string, fields: Record<string, unknown>) => opts.log?.(event, fields);
    const sessions = new SessionRunner({
      self: opts.self,
      auth: opts.auth,
      rng: opts.rng,
      send: opts.send,
      sessionTimeoutMs: opts.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
      ...(opts.onSessionEnd ? { onSessionEnd: opts.onSessionEnd } : {}),
      log,
    });
    const workers = opts.protocolWorkers ? new ProtocolWorkers(opts.protocolWorkers, log) : undefined;
    const pairs = new PairRetirement({
      vault: opts.vault,
      abortWith: (keyId, peer) => sessions.abortWithPeer(keyId, peer, `the pairwise setup with node ${peer} was retired`, 'pair_retired'),
      log,
      ...(workers ? { mirror: (keyId: string, epoch: number, peer: PartyId) => workers.board.retireKey(keyId, epoch, peer) } : {}),
    });
    this.sessions = sessions;
    this.workers = workers;
    this.ctx = {
      self: opts.self,
      members: opts.members,
      vault: opts.vault,
      sessions,
      pairs,
      ...(workers ? { workers } : {}),
      rng: opts.rng,
      audit: async (entry) => {
        await opts.audit?.(entry);
      },
      claimSession: (keyId, raw) => this.claimSession(keyId, raw),
      policy: opts.policy,
      ...(opts.administrators ? { administrators: opts.administrators } : {}),
      vendor: opts.vendor,
      signAsNode: (input) => opts.auth.sign(input),
      report: (message) => opts.send(COORDINATOR, message),
    };
  }

  get activeSessions(): number {
    return this.sessions.active;
  }

  /** Protocol worker threads (metrics); 0 when sessions run on the main thread. */
  get protocolWorkers(): number {
    return this.workers?.size ?? 0;
  }

  /** Signing and presigning sessions this node ran on protocol workers (metrics, tests); 0 without workers. */
  get workerSessions(): number {
    return this.workers?.started ?? 0;
  }

  /** Unused presignatures this node holds (metrics). */
  get presignatures(): number {
    return this.opts.vault.presignatureCount();
  }

  /** Bytes of early messages held for `peer` (tests and metrics). */
  earlyBytes(peer: PartyId): number {
    return this.sessions.earlyBytes(peer);
  }

  /** Handles one decoded message from an authenticated sender. Never throws. */
  async handle(from: Sender, message: ClusterMessage): Promise<void> {
    try {
      if (from.role === 'coordinator') await this.fromCoordinator(message as CoordinatorMessage);
      else if (message.type === 'protocol') this.sessions.fromPeer(from.id, message.session, message.keyId, message.message);
      else this.log('unexpected_message', { from: from.id, type: message.type });
    } catch (e) {
      this.log('message_refused', { type: message.type, error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Cancels every session (shutdown). */
  close(): void {
    this.sessions.closeAll();
    void this.workers?.close();
  }

  private async fromCoordinator(message: CoordinatorMessage): Promise<void> {
    const { ctx } = this;
    switch (message.type) {
      case 'ping':
        this.opts.send(COORDINATOR, { type: 'pong', nonce: message.nonce });
        return;
      case 'cancel':
        this.sessions.cancel(sessionId(message.session), 'cancelled by the coordinator');
        return;
      case 'policy':
        return applyPolicy(ctx, message);
      case 'keygen':
        return startKeygen(ctx, this.decoded('keygen', message));
      case 'sign':
        return startSign(ctx, this.decoded('sign', message));
      case 'presign':
        return startPresign(ctx, this.decoded('presign', message));
      case 'refresh':
        return startRefresh(ctx, this.decoded('refresh', message));
      case 'repair':
        return startRepair(ctx, this.decoded('repair', message));
      case 'reshare':
        return startReshare(ctx, this.decoded('reshare', message));
      case 'confirm_epoch': {
        const request = this.decoded('confirm_epoch', message);
        await this.opts.vault.confirmEpoch(request.keyId, request.epoch);
        return;
      }
      case 'destroy': {
        const request = this.decoded('destroy', message);
        await this.claimSession(request.keyId, request.session);
        await this.opts.vault.destroyKey(request.keyId);
        await ctx.audit({ event: 'destroy', keyId: request.keyId, session: Buffer.from(request.session).toString('hex'), signers: [], outcome: 'completed' });
        this.opts.send(COORDINATOR, { type: 'destroyed', session: request.session, keyId: request.keyId });
        return;
      }
    }
  }

  /**
   * The request a coordinator message carries. Its envelope was signed by the coordinator's
   * identity key and checked before the message reached this runtime (cluster/link.ts).
   */
  private decoded<T extends RequestType>(type: T, message: { request: Bytes }): RequestOf<T> {
    try {
      return decodeCbor(requestCodec(type), message.request);
    } catch (e) {
      // The coordinator signed it, so it waits for an answer: give one when the session can be read.
      const session = sessionOf(message.request);
      if (session) this.opts.send(COORDINATOR, { type: 'failed', session, code: 'malformed_request', reason: `${type} request refused: ${(e as Error).message}`.slice(0, 500), culprits: [] });
      throw e;
    }
  }

  /** Accepts a session id for a key once, ever: the vault's durable ledger decides. */
  private async claimSession(keyId: string, raw: Bytes): Promise<SessionId> {
    const id = sessionId(raw);
    if (!(await this.opts.vault.claimSession(keyId, id))) {
      // Answered, so the coordinator does not wait out its deadline; the running session (if any) is untouched.
      const reason = `session ${id} was already used for key ${keyId}`;
      this.opts.send(COORDINATOR, { type: 'failed', session: raw, code: 'session_reused', reason, culprits: [] });
      throw new DecodeError('malformed', reason);
    }
    return id;
  }

  private log(event: string, fields: Record<string, unknown>): void {
    this.opts.log?.(event, fields);
  }
}

/** The session id of an encoded request that does not decode (every request is a record whose first field is the 32-byte session). */
function sessionOf(request: Uint8Array): Bytes | undefined {
  try {
    const raw: unknown = decodeLoose(request.slice());
    const first = Array.isArray(raw) ? (raw[0] as unknown) : undefined;
    return first instanceof Uint8Array && first.length === 32 ? (Uint8Array.from(first) as Bytes) : undefined;
  } catch {
    return undefined;
  }
}
