/**
 * The node's session runner: turns coordinator requests into protocol sessions, relays
 * protocol messages between peers, seals finished key shares and reports results.
 *
 * It sees only decoded cluster messages and the authenticated sender the transport vouches
 * for, so it runs the same over libp2p and over the simulation harness's in-memory network.
 * Sessions are single-use: a session id is accepted once per key, ever (the vault records it
 * durably before the session starts, so neither a restart nor a flood of other ids reopens it);
 * any abort destroys the session's secrets (the protocol core does that, and the decoded share
 * is wiped when the session ends) and is reported to the coordinator with its culprits.
 */
import { createHash } from 'node:crypto';
import { decode as decodeLoose } from 'cbor-x';
import { DecodeError, ProtocolAbort, SessionTerminated } from '../protocol/core/errors.ts';
import { decodeCbor, encodeCbor, struct, text, uint, type Bytes } from '../protocol/core/codec.ts';
import { sessionId, sortedParties, type PartyId, type Rng, type SessionId } from '../protocol/core/ids.ts';
import { decodeMessage, encodeMessage, type ProtocolMessage } from '../protocol/core/message.ts';
import { Party, type PartyAuth } from '../protocol/core/party.ts';
import { zeroize } from '../protocol/core/transcript.ts';
import type { Scheme } from '../protocol/schemes/index.ts';
import {
  confirmEpochRequestCodec,
  destroyRequestCodec,
  refreshRequestCodec,
  repairRequestCodec,
  reshareRequestCodec,
  type ReshareRequest,
  type RefreshRequest,
  type RepairRequest,
  type SignedRequestType,
  keygenRequestCodec,
  requestSigningInput,
  signRequestCodec,
  type ClusterMessage,
  type CoordinatorMessage,
  type KeygenRequest,
  type NodeReport,
  type SignRequest,
  custodyTag,
  custodyViolation,
  inferredCustody,
  sameCustody,
  type Custody,
} from '../cluster/control.ts';
import { derive, MAX_PATH_CHARS, parsePath } from '../protocol/derive.ts';
import { schemeOf, type SchemeSignature } from '../protocol/schemes/index.ts';
import type { ShareVault, StoredKey } from './store/types.ts';
import type { Peer } from '../cluster/link.ts';

export type { ShareVault, StoredKey } from './store/types.ts';
import type { OtPairGuard } from '../protocol/dkls23/sign.ts';

/** Who sent a message, as authenticated by the transport. */
/** Who sent a message, as the cluster link authenticated it. */
export type Sender = Peer;

export interface AuditEntry {
  readonly event: 'keygen' | 'sign' | 'destroy' | 'refresh' | 'repair' | 'reshare';
  readonly keyId: string;
  readonly session: string;
  /** SHA-256 of the message, never the message itself for large payloads. */
  readonly messageDigest?: string;
  readonly derivationPath?: string;
  readonly signers: readonly PartyId[];
  readonly outcome: 'started' | 'completed' | 'aborted';
}

export interface NodeRuntimeOptions {
  readonly self: PartyId;
  /** Every node of the cluster manifest: no key may ever be held outside it. */
  readonly members: readonly PartyId[];
  /** Signs this node's reliable-broadcast digests and verifies its peers' (identity keys). */
  readonly auth: PartyAuth;
  /** Verifies the coordinator's signature over a request's signing input. */
  readonly verifyCoordinator: (input: Uint8Array, signature: Uint8Array) => boolean;
  readonly vault: ShareVault;
  readonly rng: Rng;
  /** Sends to the coordinator or a peer node; delivery failures surface as session timeouts. */
  readonly send: (to: Sender, message: ClusterMessage) => void;
  readonly audit?: (entry: AuditEntry) => void | Promise<void>;
  /** Called once per session that ends (metrics). */
  readonly onSessionEnd?: (outcome: 'completed' | 'failed') => void;
  /** Longest a session may run before it is cancelled (default 60 s). */
  readonly sessionTimeoutMs?: number;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

interface Session {
  readonly id: SessionId;
  readonly party: Party<unknown>;
  readonly keyId: string;
  readonly timer: NodeJS.Timeout;
  /** Runs once when the protocol outputs; the session stays registered until it resolves. */
  readonly complete: (output: unknown) => Promise<NodeReport | undefined>;
  /**
   * Runs once when the protocol aborts, synchronously, before the failure is reported: a
   * retirement it makes is in force before any other session can run.
   */
  readonly aborted?: (abort: ProtocolAbort) => void;
  /** Wipes what the session decoded (key shares); runs once, however the session ends. */
  readonly dispose?: () => void;
}

interface EarlyMessage {
  readonly from: PartyId;
  readonly keyId: string;
  readonly message: ProtocolMessage;
  readonly bytes: number;
}
/** A session's early messages and their total size (held against MAX_EARLY_BYTES_PER_SESSION). */
interface EarlyQueue {
  readonly messages: EarlyMessage[];
  bytes: number;
}

interface SessionSpec {
  readonly id: SessionId;
  readonly keyId: string;
  readonly protocol: string;
  readonly parties: readonly PartyId[];
  readonly start: ConstructorParameters<typeof Party<unknown>>[1];
  readonly complete: Session['complete'];
  readonly aborted?: Session['aborted'];
  readonly dispose?: () => void;
}

const MAX_EARLY_MESSAGES_PER_SESSION = 4096;
const MAX_EARLY_SESSIONS = 256;
const MAX_REMEMBERED_SESSIONS = 100_000;
/**
 * Byte budgets for messages that arrive before their session starts (a peer may legitimately be a
 * round ahead): per session, and per sending peer across all sessions, so one member cannot make
 * a node hold more than this for it. The largest honest early message is a DKLs23 round-1 KOS
 * matrix (~10 KiB per peer) or a reshare deal; these leave a wide margin.
 */
const MAX_EARLY_BYTES_PER_SESSION = 1024 * 1024;
const MAX_EARLY_BYTES_PER_PEER = 8 * 1024 * 1024;

/** The public inputs a node binds into a DKLs23 signing transcript beyond the protocol's own. */
const signContextCodec = struct<{ keyId: string; epoch: number; derivationPath: string }>({ keyId: text(128), epoch: uint(2 ** 32), derivationPath: text(MAX_PATH_CHARS) });

export class NodeRuntime {
  private readonly opts: NodeRuntimeOptions;
  private readonly sessions = new Map<SessionId, Session>();
  /** Protocol messages that arrived before the coordinator's request for their session. */
  private readonly early = new Map<SessionId, EarlyQueue>();
  /** Bytes held in `early`, per sending peer. */
  private readonly earlyBytesByPeer = new Map<PartyId, number>();
  /**
   * Per key and epoch, the peers whose pairwise OT setup with this node is retired: loaded from
   * the vault's burns, and tripped in memory the moment a check fails, before the burn is durable.
   */
  private readonly retired = new Map<string, Set<PartyId>>();
  /** Burns not yet on disk, per key: the key's pairwise sessions are refused until they are (fail closed). */
  private readonly burnsInFlight = new Map<string, number>();
  /**
   * Sessions that ended (or were refused): their late messages are dropped. A session that is
   * claimed but still loading its share is not here, so its peers' early messages are kept.
   */
  private readonly ended = new Set<SessionId>();

  constructor(opts: NodeRuntimeOptions) {
    this.opts = opts;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Handles one decoded message from an authenticated sender. Never throws. */
  async handle(from: Sender, message: ClusterMessage): Promise<void> {
    try {
      if (from.role === 'coordinator') await this.fromCoordinator(message as CoordinatorMessage);
      else if (message.type === 'protocol') this.fromPeer(from.id, message.session, message.keyId, message.message);
      else this.log('unexpected_message', { from: from.id, type: message.type });
    } catch (e) {
      this.log('message_refused', { type: message.type, error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Cancels every session (shutdown). */
  close(): void {
    for (const s of this.sessions.values()) this.endSession(s, 'node shutting down');
  }

  private async fromCoordinator(message: CoordinatorMessage): Promise<void> {
    switch (message.type) {
      case 'ping':
        this.opts.send({ role: 'coordinator' }, { type: 'pong', nonce: message.nonce });
        return;
      case 'cancel': {
        const s = this.sessions.get(sessionId(message.session));
        if (s) this.endSession(s, 'cancelled by the coordinator');
        return;
      }
      case 'keygen': {
        const request = this.verifiedRequest('keygen', message.request, message.signature, keygenRequestCodec);
        return this.startKeygen(request);
      }
      case 'sign': {
        const request = this.verifiedRequest('sign', message.request, message.signature, signRequestCodec);
        return this.startSign(request);
      }
      case 'refresh': {
        const request = this.verifiedRequest('refresh', message.request, message.signature, refreshRequestCodec);
        return this.startRefresh(request);
      }
      case 'repair': {
        const request = this.verifiedRequest('repair', message.request, message.signature, repairRequestCodec);
        return this.startRepair(request);
      }
      case 'reshare': {
        const request = this.verifiedRequest('reshare', message.request, message.signature, reshareRequestCodec);
        return this.startReshare(request);
      }
      case 'confirm_epoch': {
        const request = this.verifiedRequest('confirm_epoch', message.request, message.signature, confirmEpochRequestCodec);
        await this.opts.vault.confirmEpoch(request.keyId, request.epoch);
        return;
      }
      case 'destroy': {
        const request = this.verifiedRequest('destroy', message.request, message.signature, destroyRequestCodec);
        await this.claimSession(request.keyId, request.session);
        await this.opts.vault.destroyKey(request.keyId);
        await this.opts.audit?.({ event: 'destroy', keyId: request.keyId, session: Buffer.from(request.session).toString('hex'), signers: [], outcome: 'completed' });
        this.opts.send({ role: 'coordinator' }, { type: 'destroyed', session: request.session, keyId: request.keyId });
        return;
      }
    }
  }

  private verifiedRequest<T>(type: SignedRequestType, request: Bytes, signature: Bytes, codec: Parameters<typeof decodeCbor<T>>[0]): T {
    if (!this.opts.verifyCoordinator(requestSigningInput(type, request), signature)) {
      throw new DecodeError('malformed', `${type} request without a valid coordinator signature`);
    }
    try {
      return decodeCbor(codec, request);
    } catch (e) {
      // The coordinator signed it, so it waits for an answer: give one when the session can be read.
      const session = sessionOf(request);
      if (session) this.opts.send({ role: 'coordinator' }, { type: 'failed', session, code: 'malformed_request', reason: `${type} request refused: ${(e as Error).message}`.slice(0, 500), culprits: [] });
      throw e;
    }
  }

  /**
   * A key's custody: as sealed at creation, or for keys stored before custody existed, the rule
   * they were created under in effect — their threshold and committee size as floors, the
   * cluster manifest as the allowed members.
   */
  private custodyOf(key: StoredKey): Custody {
    return key.custody ?? inferredCustody(key.threshold, key.parties, this.opts.members);
  }

  /** Accepts a session id for a key once, ever: the vault's durable ledger decides. */
  private async claimSession(keyId: string, raw: Bytes): Promise<SessionId> {
    const id = sessionId(raw);
    if (!(await this.opts.vault.claimSession(keyId, id))) {
      // Answered, so the coordinator does not wait out its deadline; the running session (if any) is untouched.
      const reason = `session ${id} was already used for key ${keyId}`;
      this.opts.send({ role: 'coordinator' }, { type: 'failed', session: raw, code: 'session_reused', reason, culprits: [] });
      throw new DecodeError('malformed', reason);
    }
    return id;
  }

  private retiredPairs(keyId: string, epoch: number): Set<PartyId> {
    const at = `${keyId}/${epoch}`;
    let set = this.retired.get(at);
    if (!set) {
      // A new epoch brings fresh pairwise setups: the key's older retirements are moot.
      for (const k of this.retired.keys()) if (k.startsWith(`${keyId}/`)) this.retired.delete(k);
      set = new Set();
      this.retired.set(at, set);
    }
    return set;
  }

  /** The guard every DKLs23 session of one key and epoch shares (see OtPairGuard). */
  private pairGuard(keyId: string, epoch: number): OtPairGuard {
    const retired = this.retiredPairs(keyId, epoch);
    return { usable: (peer) => !retired.has(peer), retire: (peer) => this.retirePair(keyId, epoch, peer) };
  }

  /**
   * Retires this node's pairwise setup with `peer` at once (synchronously: no other session can
   * evaluate a check with it afterwards), aborts the key's running sessions with that peer, and
   * makes the retirement durable; until it is, the key's pairwise sessions are refused.
   */
  private retirePair(keyId: string, epoch: number, peer: PartyId): void {
    const retired = this.retiredPairs(keyId, epoch);
    if (retired.has(peer)) return;
    retired.add(peer);
    this.burnsInFlight.set(keyId, (this.burnsInFlight.get(keyId) ?? 0) + 1);
    this.log('pair_retired', { keyId, epoch, peer });
    queueMicrotask(() => {
      for (const s of [...this.sessions.values()]) {
        if (s.keyId === keyId && s.party.ctx.parties.includes(peer)) this.endSession(s, `the pairwise setup with node ${peer} was retired`, [peer], 'pair_retired');
      }
    });
    void this.persistBurn(keyId, epoch, peer);
  }

  private async persistBurn(keyId: string, epoch: number, peer: PartyId): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.opts.vault.burnPair(keyId, peer, epoch);
        break;
      } catch (e) {
        this.log('burn_write_failed', { keyId, peer, attempt, error: e instanceof Error ? e.message : String(e) });
        await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** attempt)).unref());
      }
    }
    const left = (this.burnsInFlight.get(keyId) ?? 1) - 1;
    if (left > 0) this.burnsInFlight.set(keyId, left);
    else this.burnsInFlight.delete(keyId);
    this.log('pair_burned', { keyId, epoch, peer });
  }

  private async startKeygen(request: KeygenRequest): Promise<void> {
    const id = await this.claimSession(request.keyId, request.session);
    const parties = sortedParties(request.parties);
    if (!parties.includes(this.opts.self)) return this.fail(id, `node ${this.opts.self} is not in the key's party set`, []);
    if (await this.opts.vault.hasKey(request.keyId)) return this.fail(id, `key ${request.keyId} already exists on node ${this.opts.self}`, []);
    const adapter = schemeOf(request.scheme).adapter;
    const custody = request.custody;
    const broken = custodyViolation(custody, request.threshold, parties, this.opts.members);
    if (broken) return this.fail(id, `key generation refused: ${broken}`, []);
    if (custody.minThreshold > request.threshold) return this.fail(id, `key generation refused: minimum threshold ${custody.minThreshold} above the threshold ${request.threshold}`, []);
    const base = { keyId: request.keyId, session: id, signers: parties };
    await this.opts.audit?.({ event: 'keygen', ...base, outcome: 'started' });
    this.startSession({ id, keyId: request.keyId, protocol: adapter.dkgProtocol, parties, start: adapter.dkg(request.threshold), complete: async (share) => {
      const key: StoredKey = {
        keyId: request.keyId,
        scheme: request.scheme,
        threshold: request.threshold,
        parties,
        groupKey: adapter.groupKey(share),
        chainCode: adapter.chainCode(share),
        custody,
      };
      const encoded = adapter.encode(share);
      try {
        await this.opts.vault.saveShare(key, encoded);
      } finally {
        zeroize(encoded);
        adapter.wipe(share);
      }
      await this.opts.audit?.({ event: 'keygen', ...base, outcome: 'completed' });
      return { type: 'keygen_done', session: request.session, keyId: request.keyId, groupKey: key.groupKey as Bytes, chainCode: key.chainCode as Bytes };
    } });
  }

  private async startSign(request: SignRequest): Promise<void> {
    // The claim's synced write overlaps the share's loading and the audit entry: all three are
    // done before the share is used (a refused claim is reported by claimSession and ends here).
    const claimed = this.claimSession(request.keyId, request.session);
    claimed.catch(() => undefined);
    const id = sessionId(request.session);
    const signers = sortedParties(request.signers);
    if (!signers.includes(this.opts.self)) return this.fail(id, `node ${this.opts.self} is not a signer of this request`, []);
    let stored = await this.opts.vault.loadShare(request.keyId);
    if (!stored && (await this.opts.vault.hasKey(request.keyId))) {
      // Joined the key by resharing and missed the confirm: the signed request names the epoch.
      await this.opts.vault.confirmEpoch(request.keyId, request.epoch).catch(() => undefined);
      stored = await this.opts.vault.loadShare(request.keyId);
    }
    if (!stored) return this.fail(id, `node ${this.opts.self} holds no share of key ${request.keyId}`, []);
    if (stored.epoch !== request.epoch) {
      zeroize(stored.share);
      if (request.epoch < stored.epoch) return this.fail(id, `epoch ${request.epoch} of key ${request.keyId} was erased (current: ${stored.epoch})`, []);
      // The coordinator committed a refresh this node only staged (its confirm was lost): confirm now.
      try {
        await this.opts.vault.confirmEpoch(request.keyId, request.epoch);
      } catch (e) {
        return this.fail(id, `cannot switch key ${request.keyId} to epoch ${request.epoch}: ${(e as Error).message}`, []);
      }
      stored = (await this.opts.vault.loadShare(request.keyId))!;
    }
    const { key, epoch } = stored;
    const adapter = schemeOf(key.scheme).adapter;
    let share: unknown;
    try {
      if (key.scheme !== request.scheme) return this.fail(id, `key ${request.keyId} is ${key.scheme}, not ${request.scheme}`, []);
      if (adapter.pairwiseSetup) {
        const retired = this.retiredPairs(request.keyId, epoch);
        for (const p of stored.burned) retired.add(p);
        const burned = signers.filter((p) => retired.has(p));
        if (burned.length) return this.fail(id, `pairwise setup with node(s) ${burned.join(', ')} is burned by a failed consistency check; refresh key ${request.keyId}`, burned);
        if (this.burnsInFlight.has(request.keyId)) return this.fail(id, `a burn of key ${request.keyId}'s pairwise setup is not yet on disk; its sessions are refused until it is`, []);
      }
      share = adapter.decode(stored.share);
    } finally {
      zeroize(stored.share);
    }
    const wipe = () => adapter.wipe(share);
    // The node derives the child itself from its own copy of the key: the coordinator signed
    // the path, and nothing else it says about the child is taken on trust.
    let signingShare = share;
    if (request.derivationPath !== '') {
      try {
        const { tweak } = derive(schemeOf(key.scheme).curve, key.groupKey, key.chainCode, parsePath(request.derivationPath));
        signingShare = adapter.tweak(share, tweak);
      } catch (e) {
        wipe();
        return this.fail(id, `cannot derive ${request.derivationPath}: ${(e as Error).message}`, []);
      }
    }
    const base = {
      keyId: request.keyId,
      session: id,
      signers,
      messageDigest: createHash('sha256').update(request.message).digest('hex'),
      ...(request.derivationPath ? { derivationPath: request.derivationPath } : {}),
    };
    const dispose = () => {
      wipe();
      if (signingShare !== share) adapter.wipe(signingShare);
    };
    try {
      // The share is released only after its use is on record and its session id is claimed for good.
      const [claim, audit] = await Promise.allSettled([claimed, this.opts.audit?.({ event: 'sign', ...base, outcome: 'started' })]);
      if (claim.status === 'rejected') {
        if (audit.status === 'fulfilled') await this.opts.audit?.({ event: 'sign', ...base, outcome: 'aborted' });
        throw claim.reason;
      }
      if (audit.status === 'rejected') throw audit.reason;
    } catch (e) {
      dispose();
      throw e;
    }
    const context = encodeCbor(signContextCodec, { keyId: request.keyId, epoch, derivationPath: request.derivationPath });
    const pairwise = adapter.pairwiseSetup;
    this.startSession({
      id,
      keyId: request.keyId,
      protocol: adapter.signProtocol(share),
      parties: signers,
      start: adapter.sign(signingShare, request.message, { context, ...(pairwise ? { guard: this.pairGuard(request.keyId, epoch) } : {}) }),
      complete: async (output) => {
        const sig = output as SchemeSignature;
        await this.opts.audit?.({ event: 'sign', ...base, outcome: 'completed' });
        // A signer that only contributed its share reports nothing; the aggregator reports.
        return sig ? { type: 'sign_done', session: request.session, signature: sig.signature as Bytes, recoveryId: sig.recoveryId } : undefined;
      },
      dispose,
      ...(pairwise
        ? {
            aborted: (abort: ProtocolAbort) => {
              // Retired at once (the guard already did for a failed KOS check); durable in the background.
              for (const peer of pairwise.compromisedBy(abort)) this.retirePair(request.keyId, epoch, peer);
            },
          }
        : {}),
    });
  }

  private async startRepair(request: RepairRequest): Promise<void> {
    const id = await this.claimSession(request.keyId, request.session);
    const parties = sortedParties([...request.helpers, request.lost]);
    const adapter = schemeOf(request.scheme).adapter;
    if (!adapter.repair) return this.fail(id, `scheme ${request.scheme} has no repair yet`, []);
    const repair = adapter.repair;
    const base = { keyId: request.keyId, session: id, signers: parties };
    // Everyone in the session must hold the same custody: it is part of the protocol id.
    const protocol = `${repair.protocol}/${custodyTag(request.custody)}`;
    if (request.lost === this.opts.self) {
      if (await this.opts.vault.hasKey(request.keyId)) return this.fail(id, `node ${this.opts.self} still holds key ${request.keyId}; destroy its copy before repairing`, []);
      const broken = custodyViolation(request.custody, request.custody.minThreshold, request.custody.members, this.opts.members);
      if (broken || !request.custody.members.includes(this.opts.self)) return this.fail(id, `repair refused: ${broken ?? `node ${this.opts.self} may not hold this key`}`, []);
      await this.opts.audit?.({ event: 'repair', ...base, outcome: 'started' });
      this.startSession({ id, keyId: request.keyId, protocol, parties, start: repair.target(), complete: async (share) => {
        const key: StoredKey = {
          keyId: request.keyId,
          scheme: request.scheme,
          threshold: adapter.threshold(share),
          parties: (share as { parties: readonly PartyId[] }).parties,
          groupKey: adapter.groupKey(share),
          chainCode: adapter.chainCode(share),
          custody: request.custody,
        };
        const encoded = adapter.encode(share);
        try {
          await this.opts.vault.saveShare(key, encoded, request.epoch);
        } finally {
          zeroize(encoded);
          adapter.wipe(share);
        }
        await this.opts.audit?.({ event: 'repair', ...base, outcome: 'completed' });
        return { type: 'repair_done', session: request.session, keyId: request.keyId };
      } });
      return;
    }
    const stored = await this.opts.vault.loadShare(request.keyId);
    if (!stored) return this.fail(id, `node ${this.opts.self} holds no share of key ${request.keyId}`, []);
    let share: unknown;
    try {
      if (stored.epoch !== request.epoch) return this.fail(id, `repair of epoch ${request.epoch}, this node holds epoch ${stored.epoch}`, []);
      // A repair rebuilds a holder's share for that holder: never a share for a new party.
      const strangers = [request.lost, ...request.helpers].filter((p) => !stored.key.parties.includes(p));
      if (strangers.length) return this.fail(id, `repair refused: node(s) ${strangers.join(', ')} hold no share of key ${request.keyId}`, []);
      if (!sameCustody(this.custodyOf(stored.key), request.custody)) return this.fail(id, `repair refused: the request's custody is not key ${request.keyId}'s`, []);
      share = adapter.decode(stored.share);
    } finally {
      zeroize(stored.share);
    }
    await this.opts.audit?.({ event: 'repair', ...base, outcome: 'started' });
    this.startSession({
      id,
      keyId: request.keyId,
      protocol,
      parties,
      start: repair.helper(share, request.lost),
      complete: async () => {
        await this.opts.audit?.({ event: 'repair', ...base, outcome: 'completed' });
        return undefined;
      },
      dispose: () => adapter.wipe(share),
    });
  }

  private async startReshare(request: ReshareRequest): Promise<void> {
    const id = await this.claimSession(request.keyId, request.session);
    const dealers = sortedParties(request.dealers);
    const newParties = sortedParties(request.newParties);
    const parties = sortedParties([...new Set([...dealers, ...newParties])]);
    const adapter = schemeOf(request.scheme).adapter;
    if (!adapter.reshare) return this.fail(id, `scheme ${request.scheme} has no resharing yet`, []);
    const reshare = adapter.reshare;
    // The committee must keep the key's custody (every dealer holds it and checks it here; a new
    // holder adopts it). A coordinator that reshares to t−1 nodes of its own finds no honest dealer.
    const broken = custodyViolation(request.custody, request.newThreshold, newParties, this.opts.members);
    if (broken) return this.fail(id, `resharing refused: ${broken}`, []);
    let share: unknown;
    if (dealers.includes(this.opts.self)) {
      const stored = await this.loadEpoch(request.keyId, request.epoch - 1);
      if (!stored) return this.fail(id, `node ${this.opts.self} holds no share of key ${request.keyId}`, []);
      try {
        if (stored.epoch !== request.epoch - 1) return this.fail(id, `resharing into epoch ${request.epoch}, this node holds epoch ${stored.epoch}`, []);
        if (!sameCustody(this.custodyOf(stored.key), request.custody)) return this.fail(id, `resharing refused: the request's custody is not key ${request.keyId}'s`, []);
        const strangers = dealers.filter((p) => !stored.key.parties.includes(p));
        if (strangers.length) return this.fail(id, `resharing refused: dealer(s) ${strangers.join(', ')} hold no share of key ${request.keyId}`, []);
        share = adapter.decode(stored.share);
      } finally {
        zeroize(stored.share);
      }
    }
    const base = { keyId: request.keyId, session: id, signers: parties };
    await this.opts.audit?.({ event: 'reshare', ...base, outcome: 'started' });
    const params = { dealers, newParties, newThreshold: request.newThreshold };
    const dispose = () => share !== undefined && adapter.wipe(share);
    const protocol = `${reshare.protocol}/${custodyTag(request.custody)}`;
    this.startSession({ id, keyId: request.keyId, protocol, parties, start: reshare.start(params, share) as SessionSpec['start'], dispose, complete: async (next) => {
      await this.opts.audit?.({ event: 'reshare', ...base, outcome: 'completed' });
      if (next === undefined) return undefined; // a dealer leaving the committee
      const committee: StoredKey = {
        keyId: request.keyId,
        scheme: request.scheme,
        threshold: request.newThreshold,
        parties: newParties,
        custody: request.custody,
        groupKey: adapter.groupKey(next),
        chainCode: adapter.chainCode(next),
      };
      const encoded = adapter.encode(next);
      const digest = reshare.digest(next);
      try {
        await this.opts.vault.stageEpoch(request.keyId, request.epoch, encoded, committee);
      } finally {
        zeroize(encoded);
        adapter.wipe(next);
      }
      return { type: 'reshare_done', session: request.session, keyId: request.keyId, epoch: request.epoch, groupKey: committee.groupKey as Bytes, commitmentsDigest: digest as Bytes };
    } });
  }

  /**
   * The key's share, moved on to `epoch` first when this node only staged that epoch: the
   * coordinator signed a request built on it, so it was committed and this node's confirm was
   * lost (a crash or restart at the wrong moment). The caller zeroises the share.
   */
  private async loadEpoch(keyId: string, epoch: number) {
    const stored = await this.opts.vault.loadShare(keyId);
    if (!stored || stored.epoch >= epoch) return stored;
    zeroize(stored.share);
    await this.opts.vault.confirmEpoch(keyId, epoch).catch(() => undefined);
    return this.opts.vault.loadShare(keyId);
  }

  private async startRefresh(request: RefreshRequest): Promise<void> {
    const id = await this.claimSession(request.keyId, request.session);
    const parties = sortedParties(request.parties);
    const stored = await this.loadEpoch(request.keyId, request.epoch - 1);
    if (!stored) return this.fail(id, `node ${this.opts.self} holds no share of key ${request.keyId}`, []);
    const adapter = schemeOf(stored.key.scheme).adapter;
    let share: unknown;
    try {
      if (!adapter.refresh) return this.fail(id, `scheme ${stored.key.scheme} has no refresh yet`, []);
      if (request.epoch !== stored.epoch + 1) return this.fail(id, `refresh to epoch ${request.epoch}, but the current epoch is ${stored.epoch}`, []);
      share = adapter.decode(stored.share);
    } finally {
      zeroize(stored.share);
    }
    const refresh = adapter.refresh;
    const base = { keyId: request.keyId, session: id, signers: parties };
    await this.opts.audit?.({ event: 'refresh', ...base, outcome: 'started' });
    this.startSession({ id, keyId: request.keyId, protocol: refresh.protocol(share), parties, start: refresh.start(share), dispose: () => adapter.wipe(share), complete: async (next) => {
      const encoded = adapter.encode(next);
      const groupKey = adapter.groupKey(next);
      try {
        await this.opts.vault.stageEpoch(request.keyId, request.epoch, encoded);
      } finally {
        zeroize(encoded);
        adapter.wipe(next);
      }
      await this.opts.audit?.({ event: 'refresh', ...base, outcome: 'completed' });
      return { type: 'refresh_done', session: request.session, keyId: request.keyId, epoch: request.epoch, groupKey: groupKey as Bytes };
    } });
  }

  private startSession({ id, keyId, protocol, parties, start, complete, aborted, dispose }: SessionSpec): void {
    const party = new Party<unknown>({ protocol, session: id, self: this.opts.self, parties, rng: this.opts.rng, auth: this.opts.auth }, start);
    const timeout = this.opts.sessionTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      const s = this.sessions.get(id);
      if (s) this.endSession(s, `session timed out after ${timeout} ms`, [], 'timeout');
    }, timeout);
    timer.unref();
    const session: Session = { id, party, keyId, timer, complete, ...(aborted ? { aborted } : {}), ...(dispose ? { dispose: once(dispose) } : {}) };
    this.sessions.set(id, session);
    this.step(session, () => party.begin());
    for (const { from, keyId: claimed, message } of this.dropEarly(id)) {
      if (!this.sessions.has(id)) break;
      if (claimed === keyId) this.deliver(session, from, message);
    }
  }

  private fromPeer(from: PartyId, rawSession: Bytes, keyId: string, raw: Bytes): void {
    const message = decodeMessage(raw);
    // The transport authenticated the peer; the message must not claim to be someone else.
    if (message.from !== from) throw new DecodeError('malformed', `message claims party ${message.from} but came from ${from}`);
    if (message.session !== sessionId(rawSession)) throw new DecodeError('malformed', 'relay header and message disagree on the session');
    const session = this.sessions.get(message.session);
    if (session) {
      if (session.keyId !== keyId) throw new DecodeError('malformed', `message for key ${keyId} in a session of key ${session.keyId}`);
      return this.deliver(session, from, message);
    }
    if (this.ended.has(message.session)) return; // late message of a finished session
    const bytes = raw.length;
    const fromPeer = this.earlyBytesByPeer.get(from) ?? 0;
    if (fromPeer + bytes > MAX_EARLY_BYTES_PER_PEER) throw new DecodeError('too_large', `node ${from} has ${fromPeer} bytes of early messages buffered here`);
    let queue = this.early.get(message.session);
    if (!queue) {
      if (this.early.size >= MAX_EARLY_SESSIONS) this.dropEarly(this.early.keys().next().value!);
      queue = { messages: [], bytes: 0 };
      this.early.set(message.session, queue);
    }
    if (queue.messages.length >= MAX_EARLY_MESSAGES_PER_SESSION || queue.bytes + bytes > MAX_EARLY_BYTES_PER_SESSION) {
      throw new DecodeError('too_large', `session ${message.session} has no room for more early messages`);
    }
    queue.messages.push({ from, keyId, message, bytes });
    queue.bytes += bytes;
    this.earlyBytesByPeer.set(from, fromPeer + bytes);
  }

  /** Bytes of early messages held for `peer` (tests and metrics). */
  earlyBytes(peer: PartyId): number {
    return this.earlyBytesByPeer.get(peer) ?? 0;
  }

  /** Forgets a session's early messages and releases their bytes from each sender's budget. */
  private dropEarly(id: SessionId): EarlyMessage[] {
    const queue = this.early.get(id)?.messages ?? [];
    this.early.delete(id);
    for (const m of queue) {
      const left = (this.earlyBytesByPeer.get(m.from) ?? 0) - m.bytes;
      if (left > 0) this.earlyBytesByPeer.set(m.from, left);
      else this.earlyBytesByPeer.delete(m.from);
    }
    return queue;
  }

  private deliver(session: Session, from: PartyId, message: ProtocolMessage): void {
    if (session.party.state.status !== 'running') return;
    try {
      this.step(session, () => session.party.receive(message));
    } catch (e) {
      // A malformed or misaddressed message is dropped; the session goes on.
      if (e instanceof DecodeError || e instanceof SessionTerminated) this.log('message_dropped', { session: session.id, from, error: e.message });
      else throw e;
    }
  }

  /** Runs one state-machine step, sends what it produced, and finishes the session if it ended. */
  private step(session: Session, f: () => ProtocolMessage[]): void {
    let out: ProtocolMessage[];
    try {
      out = f();
    } catch (e) {
      if (e instanceof ProtocolAbort) {
        this.finishAborted(session, e);
        return;
      }
      throw e;
    }
    this.route(session, out);
    const state = session.party.state;
    if (state.status === 'done') {
      session
        .complete(state.output)
        .then((report) => {
          this.opts.onSessionEnd?.('completed');
          if (report) this.opts.send({ role: 'coordinator' }, report);
        })
        .catch((e: unknown) => this.fail(session.id, `could not finish: ${e instanceof Error ? e.message : String(e)}`, [], 'local_failure'))
        .finally(() => this.forget(session));
    } else if (state.status === 'aborted') {
      this.finishAborted(session, state.abort);
    }
  }

  private route(session: Session, out: readonly ProtocolMessage[]): void {
    const parties = session.party.ctx.parties;
    const rawSession = Buffer.from(session.id, 'hex') as Bytes;
    for (const m of out) {
      const encoded = encodeMessage(m) as Bytes;
      const recipients = m.kind === 'direct' ? [m.to] : parties.filter((p) => p !== this.opts.self);
      for (const to of recipients) this.opts.send({ role: 'node', id: to }, { type: 'protocol', session: rawSession, keyId: session.keyId, round: m.round, message: encoded });
    }
  }

  private finishAborted(session: Session, abort: ProtocolAbort): void {
    this.forget(session);
    session.aborted?.(abort);
    this.fail(session.id, `${abort.reason}: ${abort.message}`, abort.culprits, abort.reason);
  }

  private endSession(session: Session, reason: string, culprits: readonly PartyId[] = [], code = 'cancelled'): void {
    if (!this.sessions.has(session.id)) return;
    session.party.cancel(reason);
    this.forget(session);
    this.fail(session.id, reason, culprits, code);
  }

  private forget(session: Session): void {
    clearTimeout(session.timer);
    session.dispose?.();
    this.sessions.delete(session.id);
    this.markEnded(session.id);
  }

  private markEnded(id: SessionId): void {
    if (this.ended.size >= MAX_REMEMBERED_SESSIONS) this.ended.clear();
    this.ended.add(id);
    this.dropEarly(id);
  }

  /** Ends a session (or refuses one) and reports it; `code` is what the coordinator may pass on (see NodeReport). */
  private fail(id: SessionId, reason: string, culprits: readonly PartyId[], code = 'refused'): void {
    this.opts.onSessionEnd?.('failed');
    this.markEnded(id);
    this.log('session_failed', { session: id, code, reason, culprits });
    this.opts.send({ role: 'coordinator' }, { type: 'failed', session: Buffer.from(id, 'hex') as Bytes, code, reason: reason.slice(0, 500), culprits: [...culprits] });
  }

  private log(event: string, fields: Record<string, unknown>): void {
    this.opts.log?.(event, fields);
  }
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    f();
  };
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
