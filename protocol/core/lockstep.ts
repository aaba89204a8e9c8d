/**
 * Several instances of one protocol in one session, round for round: each round's broadcast to a
 * party, and its direct message, carry every instance's payload at once. What this saves is per
 * message, not per byte: a node signs, seals, sends and opens one envelope where it would have
 * handled one per instance, and claims, audits and stores once per session (DKLs23 presignatures
 * are made this way, several per session).
 *
 * Each instance runs in its own session context, named so no other session can have it: the
 * protocol id is the batch's with the instance's place appended, and the session id is a hash of
 * the batch's protocol, session, size and place. Instances share nothing else; the party that
 * drives the batch sees one protocol whose output is the instances' outputs in order.
 *
 * Any abort is the batch's: an instance that fails a check (or a payload that does not decode)
 * ends the session, naming the sender where the instance can, and every instance's secrets are
 * destroyed, rounds already advanced to included.
 */
import { array, bytes, decodeCbor, encodeCbor, type Bytes } from './codec.ts';
import { DecodeError, ProtocolAbort, ProtocolConfigError } from './errors.ts';
import { sessionId, type PartyId } from './ids.ts';
import type { Outgoing, ProtocolStart, Round, SessionContext, Transition } from './round.ts';
import { hashTranscript } from './transcript.ts';

/** The most instances one session may run. */
export const MAX_LOCKSTEP_INSTANCES = 16;
/** The most bytes one instance may send in one payload. */
const MAX_INSTANCE_PAYLOAD = 4 * 1024 * 1024;

/** The context instance `index` of `count` runs in. */
export function instanceContext(ctx: SessionContext, count: number, index: number): SessionContext {
  return {
    ...ctx,
    protocol: `${ctx.protocol}/instance-${index + 1}-of-${count}`,
    session: sessionId(hashTranscript('mpc/lockstep/instance-session/v1', ctx.protocol, ctx.session, count, index)),
  };
}

/** `count` instances of a protocol (`instance(i)` starts the i-th), in lockstep, as one protocol. */
export function lockstep<O>(count: number, instance: (index: number) => ProtocolStart<O>): ProtocolStart<O[]> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_LOCKSTEP_INSTANCES) throw new ProtocolConfigError(`a lockstep session runs 1 to ${MAX_LOCKSTEP_INSTANCES} instances, not ${count}`);
  return (ctx) => {
    const transitions: Transition<O>[] = [];
    try {
      for (let i = 0; i < count; i++) transitions.push(instance(i)(instanceContext(ctx, count, i)));
    } catch (e) {
      destroyNext(transitions);
      throw e;
    }
    return combine(transitions);
  };
}

const payloads = (count: number) => array(bytes({ min: 1, max: MAX_INSTANCE_PAYLOAD }), { min: count, max: count });

function destroyNext<O>(transitions: readonly Transition<O>[]): void {
  for (const t of transitions) if ('next' in t) t.next.destroy();
}

/** The instances' transitions as the batch's: all of them end, or all of them go on to a round. */
function combine<O>(transitions: readonly Transition<O>[]): Transition<O[]> {
  try {
    const send = combineSends(transitions.map((t) => t.send));
    const outputs: O[] = [];
    const rounds: Round<O>[] = [];
    for (const t of transitions) {
      if ('output' in t) outputs.push(t.output);
      else rounds.push(t.next);
    }
    if (!rounds.length) return { send, output: outputs };
    if (outputs.length) throw new ProtocolConfigError('instances of a lockstep session ended in different rounds');
    return { send, next: lockstepRound(rounds) };
  } catch (e) {
    destroyNext(transitions);
    throw e;
  }
}

function combineSends(sends: readonly Outgoing[]): Outgoing {
  const count = sends.length;
  const broadcasts = sends.map((s) => s.broadcast);
  const some = broadcasts.filter((b) => b !== undefined);
  if (some.length && some.length !== count) throw new ProtocolConfigError('instances of a lockstep session broadcast in different rounds');
  const recipients = new Set<PartyId>();
  for (const s of sends) for (const to of s.direct?.keys() ?? []) recipients.add(to);
  const direct = new Map<PartyId, Uint8Array>();
  for (const to of recipients) {
    const parts = sends.map((s) => s.direct?.get(to));
    if (parts.some((p) => p === undefined)) throw new ProtocolConfigError(`instances of a lockstep session differ in what they send party ${to}`);
    direct.set(to, encodeCbor(payloads(count), parts as Bytes[]));
  }
  return {
    ...(some.length ? { broadcast: encodeCbor(payloads(count), broadcasts as Bytes[]) } : {}),
    ...(direct.size ? { direct } : {}),
  };
}

function lockstepRound<O>(rounds: readonly Round<O>[]): Round<O[]> {
  const first = rounds[0]!;
  const senders = (r: Round<O>) => (r.senders === undefined ? 'every other party' : r.senders.join());
  if (rounds.some((r) => r.number !== first.number || r.expectsBroadcast !== first.expectsBroadcast || r.expectsDirect !== first.expectsDirect || senders(r) !== senders(first))) {
    throw new ProtocolConfigError('instances of a lockstep session are in different rounds');
  }
  // An echo round signs digests of the whole broadcast; the batch's would not be any instance's.
  if (first.reliable) throw new ProtocolConfigError('a lockstep session cannot run reliable-broadcast rounds');
  const split = (from: PartyId, payload: Uint8Array, kind: string): Bytes[] => {
    try {
      return decodeCbor(payloads(rounds.length), payload);
    } catch (e) {
      if (e instanceof DecodeError) throw new ProtocolAbort('invalid_message', [from], `round ${first.number} ${kind} from party ${from}: ${e.message}`);
      throw e;
    }
  };
  return {
    number: first.number,
    reliable: false,
    expectsBroadcast: first.expectsBroadcast,
    expectsDirect: first.expectsDirect,
    senders: first.senders,
    decodeBroadcast: (from, payload) => split(from, payload, 'broadcast').forEach((p, i) => rounds[i]!.decodeBroadcast(from, p)),
    decodeDirect: (from, payload) => split(from, payload, 'direct').forEach((p, i) => rounds[i]!.decodeDirect(from, p)),
    finish: () => {
      const transitions: Transition<O>[] = [];
      try {
        for (const r of rounds) transitions.push(r.finish());
      } catch (e) {
        destroyNext(transitions);
        throw e;
      }
      return combine(transitions);
    },
    destroy: () => {
      for (const r of rounds) r.destroy();
    },
  };
}
