/**
 * Runs protocol sessions: one `Party` state machine per session, stepped by the messages that
 * arrive for it, its output routed to peers and its end reported to the coordinator. Messages
 * that arrive before their session starts (a peer may be a round ahead) are held within byte
 * budgets per session and per sending peer. Sessions are single-use: whatever ends a session
 * (output, abort, timeout, cancel, shutdown) disposes of what it decoded, once.
 */
import type { ClusterMessage, NodeReport } from '../../cluster/control.ts';
import type { Peer } from '../../cluster/link.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import { DecodeError, ProtocolAbort, SessionTerminated } from '../../protocol/core/errors.ts';
import { sessionId, sortedParties, type PartyId, type Rng, type SessionId } from '../../protocol/core/ids.ts';
import { decodeMessage, encodeMessage, type ProtocolMessage } from '../../protocol/core/message.ts';
import { Party, type PartyAuth, type ProtocolStart } from '../../protocol/core/party.ts';
import { EarlyMessages } from './early.ts';
import type { RemoteSession, RemoteStep } from './worker-pool.ts';

/** Where a session's state machine runs: here, or on a protocol worker (worker-pool.ts). */
export type SessionMachine = { readonly kind: 'inline'; readonly protocol: string; readonly start: ProtocolStart<unknown> } | { readonly kind: 'worker'; readonly session: RemoteSession };

export interface SessionSpec {
  readonly id: SessionId;
  readonly keyId: string;
  readonly parties: readonly PartyId[];
  readonly machine: SessionMachine;
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

interface Session {
  readonly id: SessionId;
  readonly machine: { readonly kind: 'inline'; readonly party: Party<unknown> } | { readonly kind: 'worker'; readonly session: RemoteSession };
  readonly parties: readonly PartyId[];
  readonly keyId: string;
  readonly timer: NodeJS.Timeout;
  readonly complete: SessionSpec['complete'];
  readonly aborted?: SessionSpec['aborted'];
  readonly dispose?: () => void;
}

export interface SessionRunnerOptions {
  readonly self: PartyId;
  readonly auth: PartyAuth;
  readonly rng: Rng;
  readonly send: (to: Peer, message: ClusterMessage) => void;
  /** Longest a session may run before it is cancelled. */
  readonly sessionTimeoutMs: number;
  readonly onSessionEnd?: (outcome: 'completed' | 'failed') => void;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
}

const MAX_REMEMBERED_SESSIONS = 100_000;
/** How long a session may run before it is cancelled, unless the node's config says otherwise. */
export const DEFAULT_SESSION_TIMEOUT_MS = 60_000;
const COORDINATOR: Peer = { role: 'coordinator' };

export class SessionRunner {
  private readonly opts: SessionRunnerOptions;
  private readonly sessions = new Map<SessionId, Session>();
  private readonly early = new EarlyMessages();
  /**
   * Sessions that ended (or were refused): their late messages are dropped. A session that is
   * claimed but still loading its share is not here, so its peers' early messages are kept.
   */
  private readonly ended = new Set<SessionId>();

  constructor(opts: SessionRunnerOptions) {
    this.opts = opts;
  }

  get active(): number {
    return this.sessions.size;
  }

  /** Bytes of early messages held for `peer` (tests and metrics). */
  earlyBytes(peer: PartyId): number {
    return this.early.bytesFrom(peer);
  }

  start({ id, keyId, parties, machine: spec, complete, aborted, dispose }: SessionSpec): void {
    const machine: Session['machine'] =
      spec.kind === 'inline'
        ? { kind: 'inline', party: new Party<unknown>({ protocol: spec.protocol, session: id, self: this.opts.self, parties, rng: this.opts.rng, auth: this.opts.auth }, spec.start) }
        : spec;
    const timeout = this.opts.sessionTimeoutMs;
    const timer = setTimeout(() => {
      const s = this.sessions.get(id);
      if (s) this.end(s, `session timed out after ${timeout} ms`, [], 'timeout');
    }, timeout);
    timer.unref();
    const session: Session = { id, machine, parties: sortedParties(parties), keyId, timer, complete, ...(aborted ? { aborted } : {}), ...(dispose ? { dispose: once(dispose) } : {}) };
    this.sessions.set(id, session);
    if (machine.kind === 'inline') {
      const party = machine.party;
      this.step(session, () => party.begin());
    } else {
      // The worker began the session when it started it; its steps come back in order.
      machine.session.onStep((step) => this.workerStep(session, step));
      machine.session.onFailure((error) => {
        if (this.sessions.has(id)) this.end(session, `protocol worker: ${error}`, [], 'local_failure');
      });
    }
    for (const { from, keyId: claimed, message } of this.early.take(id)) {
      if (!this.sessions.has(id)) break;
      if (claimed === keyId) this.deliver(session, from, message);
    }
  }

  /** A protocol message relayed from `from` (authenticated by the link). */
  fromPeer(from: PartyId, rawSession: Bytes, keyId: string, raw: Bytes): void {
    const message = decodeMessage(raw);
    // The link authenticated the peer; the message must not claim to be someone else.
    if (message.from !== from) throw new DecodeError('malformed', `message claims party ${message.from} but came from ${from}`);
    if (message.session !== sessionId(rawSession)) throw new DecodeError('malformed', 'relay header and message disagree on the session');
    const session = this.sessions.get(message.session);
    if (session) {
      if (session.keyId !== keyId) throw new DecodeError('malformed', `message for key ${keyId} in a session of key ${session.keyId}`);
      return this.deliver(session, from, message);
    }
    if (this.ended.has(message.session)) return; // late message of a finished session
    this.early.hold({ from, keyId, message, bytes: raw.length });
  }

  /** Cancels a running session (the coordinator asked). */
  cancel(id: SessionId, reason: string): void {
    const s = this.sessions.get(id);
    if (s) this.end(s, reason);
  }

  /** Aborts the running sessions of `keyId` that include `peer`, naming it. */
  abortWithPeer(keyId: string, peer: PartyId, reason: string, code: string): void {
    for (const s of [...this.sessions.values()]) if (s.keyId === keyId && s.parties.includes(peer)) this.end(s, reason, [peer], code);
  }

  /** Cancels every session (shutdown). */
  closeAll(): void {
    for (const s of [...this.sessions.values()]) this.end(s, 'node shutting down');
  }

  /** Ends a session (or refuses one) and reports it; `code` is what the coordinator may pass on (see NodeReport). */
  fail(id: SessionId, reason: string, culprits: readonly PartyId[], code = 'refused'): void {
    this.opts.onSessionEnd?.('failed');
    this.markEnded(id);
    this.opts.log('session_failed', { session: id, code, reason, culprits });
    this.opts.send(COORDINATOR, { type: 'failed', session: Buffer.from(id, 'hex') as Bytes, code, reason: reason.slice(0, 500), culprits: [...culprits] });
  }

  private deliver(session: Session, from: PartyId, message: ProtocolMessage): void {
    const machine = session.machine;
    if (machine.kind === 'worker') return machine.session.receive(message);
    const party = machine.party;
    if (party.state.status !== 'running') return;
    try {
      this.step(session, () => party.receive(message));
    } catch (e) {
      // A malformed or misaddressed message is dropped; the session goes on.
      if (e instanceof DecodeError || e instanceof SessionTerminated) this.opts.log('message_dropped', { session: session.id, from, error: e.message });
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
    if (session.machine.kind !== 'inline') return;
    const state = session.machine.party.state;
    if (state.status === 'done') this.finishDone(session, state.output);
    else if (state.status === 'aborted') this.finishAborted(session, state.abort);
  }

  /** One step a worker took: what it sent, and the session's end if it ended. */
  private workerStep(session: Session, step: RemoteStep): void {
    if (!this.sessions.has(session.id)) return;
    if (step.dropped) this.opts.log('message_dropped', { session: session.id, error: step.dropped });
    this.route(session, step.out);
    const state = step.state;
    if (state.status === 'done') this.finishDone(session, state.output);
    else if (state.status === 'aborted') this.finishAborted(session, new ProtocolAbort(state.reason as ProtocolAbort['reason'], state.culprits, state.message));
  }

  private finishDone(session: Session, output: unknown): void {
    session
      .complete(output)
      .then((report) => {
        this.opts.onSessionEnd?.('completed');
        if (report) this.opts.send(COORDINATOR, report);
      })
      .catch((e: unknown) => this.fail(session.id, `could not finish: ${e instanceof Error ? e.message : String(e)}`, [], 'local_failure'))
      .finally(() => this.forget(session));
  }

  private route(session: Session, out: readonly ProtocolMessage[]): void {
    const parties = session.parties;
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

  private end(session: Session, reason: string, culprits: readonly PartyId[] = [], code = 'cancelled'): void {
    if (!this.sessions.has(session.id)) return;
    if (session.machine.kind === 'inline') session.machine.party.cancel(reason);
    else session.machine.session.cancel(reason);
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
    this.early.take(id);
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
