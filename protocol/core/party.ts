/**
 * The transport-free shape of every multi-party protocol: a party-side state machine
 * that takes incoming messages and returns outgoing ones, round by round.
 *
 * A protocol is written as a chain of rounds (one function per round, as in the papers).
 * Each round declares what it expects from every other party (a broadcast, a direct
 * message, or both) with strict codecs; the party buffers messages until the round is
 * complete, then calls the round's `finish`, which returns what to send and the next
 * round or the output. A round marked `reliable` gets an echo step: every party
 * broadcasts the digests (and the senders' signatures) of all broadcasts it received,
 * so an equivocating sender is detected and provably blamed.
 *
 * Aborts are terminal: the current round's `destroy` runs (zeroising its secrets) and
 * every later call fails with {@link SessionTerminated}. Nothing here does I/O or reads
 * a clock; randomness comes from the injected {@link Rng}.
 */
import { bytes, decodeCbor, encodeCbor, partyMap, struct } from './codec.ts';
import type { Outgoing, PartyAuth, PartyState, ProtocolStart, Round, SessionContext, Transition } from './round.ts';
import { DecodeError, ProtocolAbort, ProtocolConfigError, SessionTerminated } from './errors.ts';
import { sortedParties, type PartyId, type Rng } from './ids.ts';
import type { BroadcastMessage, DirectMessage, ProtocolMessage } from './message.ts';
import { constantTimeEqual, hashTranscript, Transcript } from './transcript.ts';

export type { Outgoing, PartyAuth, PartyState, ProtocolStart, Round, RoundDefinition, RoundInbox, SessionContext, Transition } from './round.ts';
export { round } from './round.ts';

const ECHO_ROUND_OFFSET = 100;

interface EchoEntry {
  digest: Uint8Array;
  signature: Uint8Array;
}
const echoEntry = struct<EchoEntry>({ digest: bytes(32), signature: bytes({ min: 1, max: 4096 }) });

interface PendingRound {
  broadcasts: Map<PartyId, BroadcastMessage>;
  direct: Map<PartyId, DirectMessage>;
  echoes: Map<PartyId, BroadcastMessage>;
}

/**
 * One party's side of one session. Feed it every message addressed to it (in any order,
 * early messages are buffered); send what it returns.
 */
export class Party<O> {
  readonly ctx: SessionContext;
  private readonly others: readonly PartyId[];
  private readonly start: ProtocolStart<O>;
  private current: Round<O> | undefined;
  private result: { status: 'done'; output: O } | { status: 'aborted'; abort: ProtocolAbort } | undefined;
  private started = false;
  private readonly pending = new Map<number, PendingRound>();
  /** Reliable-broadcast bookkeeping of the current round: digests and signatures by sender. */
  private echoTable: Map<PartyId, EchoEntry> | undefined;
  private echoSent = false;

  constructor(ctx: SessionContext, start: ProtocolStart<O>) {
    const parties = sortedParties(ctx.parties);
    if (!parties.includes(ctx.self)) throw new ProtocolConfigError(`party ${ctx.self} is not in the session's party set`);
    this.ctx = { ...ctx, parties };
    this.others = parties.filter((p) => p !== ctx.self);
    this.start = start;
  }

  get state(): PartyState<O> {
    if (this.result) return this.result;
    return { status: 'running', round: this.current?.number ?? 0 };
  }

  /** The first messages of the session. Call exactly once. */
  begin(): ProtocolMessage[] {
    if (this.started) throw new ProtocolConfigError('party already started');
    this.started = true;
    return this.guard(() => [...this.applyTransition(this.start(this.ctx)), ...this.advance()]);
  }

  /**
   * Handles one incoming message. Messages for another protocol, session or recipient,
   * or from a stranger, are refused with a DecodeError and leave the session untouched;
   * a message that proves its sender misbehaved aborts the session naming the sender.
   */
  receive(msg: ProtocolMessage): ProtocolMessage[] {
    if (this.result) throw new SessionTerminated(`session ${this.ctx.session} already ${this.result.status}`);
    if (!this.started) throw new ProtocolConfigError('call begin() before receive()');
    this.checkAddressing(msg);
    return this.guard(() => {
      this.buffer(msg);
      return this.advance();
    });
  }

  /** Ends the session from outside (timeout, cancellation) and destroys its secrets. */
  cancel(reason = 'cancelled'): void {
    if (this.result) return;
    this.terminate(new ProtocolAbort('local_failure', [], reason));
  }

  private checkAddressing(msg: ProtocolMessage): void {
    if (msg.protocol !== this.ctx.protocol) throw new DecodeError('malformed', `message for protocol ${msg.protocol}, expected ${this.ctx.protocol}`);
    if (msg.session !== this.ctx.session) throw new DecodeError('malformed', 'message for another session');
    if (!this.others.includes(msg.from)) throw new DecodeError('malformed', `message from party ${msg.from}, not a peer in this session`);
    if (msg.kind === 'direct' && msg.to !== this.ctx.self) throw new DecodeError('malformed', `direct message for party ${msg.to}`);
  }

  private guard(step: () => ProtocolMessage[]): ProtocolMessage[] {
    try {
      return step();
    } catch (e) {
      const abort = e instanceof ProtocolAbort ? e : new ProtocolAbort('local_failure', [], e instanceof Error ? e.message : String(e));
      this.terminate(abort);
      throw abort;
    }
  }

  private terminate(abort: ProtocolAbort): void {
    this.result = { status: 'aborted', abort };
    this.current?.destroy();
    this.current = undefined;
    this.pending.clear();
    this.echoTable = undefined;
  }

  private pendingFor(roundNumber: number): PendingRound {
    let p = this.pending.get(roundNumber);
    if (!p) {
      p = { broadcasts: new Map(), direct: new Map(), echoes: new Map() };
      this.pending.set(roundNumber, p);
    }
    return p;
  }

  private buffer(msg: ProtocolMessage): void {
    const isEcho = msg.round > ECHO_ROUND_OFFSET;
    const roundNumber = isEcho ? msg.round - ECHO_ROUND_OFFSET : msg.round;
    if (this.current && roundNumber < this.current.number) return; // late copy of a finished round
    const p = this.pendingFor(roundNumber);
    const slot: Map<PartyId, ProtocolMessage> = isEcho ? p.echoes : msg.kind === 'broadcast' ? p.broadcasts : p.direct;
    if (isEcho && msg.kind !== 'broadcast') throw new ProtocolAbort('unexpected_message', [msg.from], 'echo sent as a direct message');
    const seen = slot.get(msg.from);
    if (seen) {
      if (constantTimeEqual(seen.payload, msg.payload)) return; // duplicate delivery
      throw new ProtocolAbort('equivocation', [msg.from], `party ${msg.from} sent two different messages for round ${msg.round}`);
    }
    slot.set(msg.from, msg);
  }

  private outgoing(send: Outgoing): ProtocolMessage[] {
    const roundNumber = this.nextRoundHint;
    const out: ProtocolMessage[] = [];
    const header = { protocol: this.ctx.protocol, session: this.ctx.session, from: this.ctx.self };
    if (send.broadcast) {
      out.push({ kind: 'broadcast', ...header, round: roundNumber.value, payload: send.broadcast, ...this.signIfReliable(roundNumber, send.broadcast) });
    }
    if (send.direct) {
      for (const [to, payload] of send.direct) {
        if (!this.others.includes(to)) throw new ProtocolConfigError(`direct message to party ${to}, not a peer`);
        out.push({ kind: 'direct', ...header, round: roundNumber.value, to, payload });
      }
    }
    return out;
  }

  /** Messages produced by a transition carry the number of the round that consumes them. */
  private nextRoundHint: { value: number; reliable: boolean } = { value: 0, reliable: false };

  private signIfReliable(r: { value: number; reliable: boolean }, payload: Uint8Array): { signature?: Uint8Array } {
    if (!r.reliable) return {};
    const own = this.broadcastDigest(r.value, this.ctx.self, payload);
    const signature = this.requireAuth().sign(this.signedDigestMessage(r.value, this.ctx.self, own));
    this.ownReliable = { digest: own, signature };
    return { signature };
  }
  private ownReliable: EchoEntry | undefined;

  private requireAuth(): PartyAuth {
    if (!this.ctx.auth) throw new ProtocolConfigError(`${this.ctx.protocol} has reliable-broadcast rounds and needs SessionContext.auth`);
    return this.ctx.auth;
  }

  private broadcastDigest(roundNumber: number, from: PartyId, payload: Uint8Array): Uint8Array {
    return broadcastDigest(this.ctx, roundNumber, from, payload);
  }

  private signedDigestMessage(roundNumber: number, from: PartyId, digest: Uint8Array): Uint8Array {
    return broadcastSignatureMessage(this.ctx, roundNumber, from, digest);
  }

  /** Finishes as many rounds as the buffered messages allow. */
  private advance(): ProtocolMessage[] {
    const out: ProtocolMessage[] = [];
    while (this.current && !this.result) {
      const r = this.current;
      const p = this.pendingFor(r.number);
      const senders = (r.senders ?? this.others).filter((s) => s !== this.ctx.self);
      const haveAll = senders.every((s) => (!r.expectsBroadcast || p.broadcasts.has(s)) && (!r.expectsDirect || p.direct.has(s)));
      if (!haveAll) break;
      if (r.reliable) {
        if (!this.echoSent) {
          out.push(this.sendEcho(r, p, senders));
          this.echoSent = true;
        }
        if (!senders.every((s) => p.echoes.has(s))) break;
        this.checkEchoes(r, p);
      }
      for (const s of senders) {
        if (r.expectsBroadcast) r.decodeBroadcast(s, p.broadcasts.get(s)!.payload);
        if (r.expectsDirect) r.decodeDirect(s, p.direct.get(s)!.payload);
      }
      this.pending.delete(r.number);
      const t = r.finish();
      out.push(...this.applyTransition(t));
    }
    return out;
  }

  private applyTransition(t: Transition<O>): ProtocolMessage[] {
    this.nextRoundHint = 'next' in t ? { value: t.next.number, reliable: t.next.reliable } : { value: 0, reliable: false };
    if ('next' in t === false && (t.send.broadcast || t.send.direct)) {
      throw new ProtocolConfigError('a final transition cannot send messages');
    }
    const out = this.outgoing(t.send);
    if ('output' in t) {
      this.current?.destroy();
      this.current = undefined;
      this.result = { status: 'done', output: t.output };
      return out;
    }
    this.current?.destroy();
    this.current = t.next;
    this.echoSent = false;
    this.echoTable = undefined;
    return out;
  }

  private sendEcho(r: Round<O>, p: PendingRound, senders: readonly PartyId[]): ProtocolMessage {
    const auth = this.requireAuth();
    const table = new Map<PartyId, EchoEntry>();
    for (const s of senders) {
      const msg = p.broadcasts.get(s)!;
      const digest = this.broadcastDigest(r.number, s, msg.payload);
      if (!msg.signature || !auth.verify(s, this.signedDigestMessage(r.number, s, digest), msg.signature)) {
        throw new ProtocolAbort('invalid_message', [s], `party ${s}'s round ${r.number} broadcast is not signed`);
      }
      table.set(s, { digest, signature: msg.signature });
    }
    if (!this.ownReliable) throw new ProtocolConfigError(`round ${r.number} is reliable but this party sent no broadcast in it`);
    table.set(this.ctx.self, this.ownReliable);
    this.echoTable = table;
    const codec = partyMap(echoEntry, { min: table.size, max: table.size });
    return {
      kind: 'broadcast',
      protocol: this.ctx.protocol,
      session: this.ctx.session,
      round: ECHO_ROUND_OFFSET + r.number,
      from: this.ctx.self,
      payload: encodeCbor(codec, table),
    };
  }

  /**
   * Compares every echo with what this party received. A differing digest is settled by
   * its signature: a valid signature by the original sender over a second digest proves
   * that sender equivocated; an invalid one proves the echoing party lied.
   */
  private checkEchoes(r: Round<O>, p: PendingRound): void {
    const auth = this.requireAuth();
    const mine = this.echoTable!;
    const codec = partyMap(echoEntry, { min: mine.size, max: mine.size });
    const culprits = new Set<PartyId>();
    for (const [echoer, msg] of p.echoes) {
      let theirs: Map<PartyId, EchoEntry>;
      try {
        theirs = decodeCbor(codec, msg.payload);
      } catch (e) {
        if (e instanceof DecodeError) throw new ProtocolAbort('invalid_message', [echoer], `echo from party ${echoer}: ${e.message}`);
        throw e;
      }
      for (const [sender, entry] of mine) {
        const reported = theirs.get(sender);
        if (!reported) {
          culprits.add(echoer);
          continue;
        }
        if (constantTimeEqual(reported.digest, entry.digest)) continue;
        const proves = auth.verify(sender, this.signedDigestMessage(r.number, sender, reported.digest), reported.signature);
        culprits.add(proves ? sender : echoer);
      }
    }
    if (culprits.size) {
      throw new ProtocolAbort('equivocation', [...culprits], `round ${r.number} broadcast was not consistent across parties`);
    }
  }
}

type SessionIds = Pick<SessionContext, 'protocol' | 'session'>;

/** Digest of one reliable-broadcast payload, bound to protocol, session, round and sender. */
export function broadcastDigest(ctx: SessionIds, roundNumber: number, from: PartyId, payload: Uint8Array): Uint8Array {
  return hashTranscript('mpc/broadcast-digest/v1', ctx.protocol, ctx.session, roundNumber, from, payload);
}

/** What a sender signs for a reliable broadcast: its payload digest in the session's context. */
export function broadcastSignatureMessage(ctx: SessionIds, roundNumber: number, from: PartyId, digest: Uint8Array): Uint8Array {
  return new Transcript('mpc/broadcast-signature/v1').text(ctx.protocol).text(ctx.session).uint(roundNumber).uint(from).bytes(digest).digest();
}

/** The signature a reliable-broadcast sender attaches (exported for tests that play a malicious sender). */
export function signBroadcast(ctx: SessionIds, auth: PartyAuth, roundNumber: number, from: PartyId, payload: Uint8Array): Uint8Array {
  return auth.sign(broadcastSignatureMessage(ctx, roundNumber, from, broadcastDigest(ctx, roundNumber, from, payload)));
}
