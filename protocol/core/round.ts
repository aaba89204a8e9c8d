/**
 * Rounds and their transitions: what a protocol is written as (one function per round, as in
 * the papers). Each round declares what it expects from every other party (a broadcast, a
 * direct message, or both) with strict codecs; `finish` returns what to send and the next
 * round or the output. `Party` (party.ts) drives them.
 */
import { decodeCbor, type Codec } from './codec.ts';
import { DecodeError, ProtocolAbort, ProtocolConfigError } from './errors.ts';
import type { PartyId, Rng, SessionId } from './ids.ts';

/** Signs and verifies reliable-broadcast digests with the parties' identity keys. */
export interface PartyAuth {
  sign(message: Uint8Array): Uint8Array;
  verify(from: PartyId, message: Uint8Array, signature: Uint8Array): boolean;
}

export interface SessionContext {
  readonly protocol: string;
  readonly session: SessionId;
  readonly self: PartyId;
  /** Every party of this session, sorted ascending, `self` included. */
  readonly parties: readonly PartyId[];
  readonly rng: Rng;
  /** Required by protocols with reliable-broadcast rounds. */
  readonly auth?: PartyAuth;
}

export interface RoundInbox<B, D> {
  /** One decoded broadcast per other party (empty when the round expects none). */
  readonly broadcasts: ReadonlyMap<PartyId, B>;
  /** One decoded direct message per other party (empty when the round expects none). */
  readonly direct: ReadonlyMap<PartyId, D>;
}

/** What a round sends: encoded payloads, a broadcast and/or one direct message per recipient. */
export interface Outgoing {
  readonly broadcast?: Uint8Array;
  readonly direct?: ReadonlyMap<PartyId, Uint8Array>;
}

export type Transition<O> =
  | { readonly send: Outgoing; readonly next: Round<O> }
  | { readonly send: Outgoing; readonly output: O };

export interface RoundDefinition<O, B, D> {
  /** Round number, 1..99, shown on the wire. */
  readonly number: number;
  readonly broadcast?: Codec<B>;
  readonly direct?: Codec<D>;
  /** Echo this round's broadcasts before finishing (needs `SessionContext.auth`). */
  readonly reliable?: boolean;
  /** Parties expected to send in this round; defaults to every other party. */
  readonly senders?: readonly PartyId[];
  /**
   * Runs once every expected message has arrived and decoded (a payload that does not decode
   * aborts at once, blaming its sender): checks, then what to send and the next round or the output.
   */
  finish(inbox: RoundInbox<B, D>): Transition<O>;
  /** Zeroise this round's secret state. Called once when the session ends for any reason. */
  destroy?(): void;
}

/** A round with its payload types erased, as the party drives it. */
export interface Round<O> {
  readonly number: number;
  readonly reliable: boolean;
  readonly expectsBroadcast: boolean;
  readonly expectsDirect: boolean;
  readonly senders: readonly PartyId[] | undefined;
  decodeBroadcast(from: PartyId, payload: Uint8Array): void;
  decodeDirect(from: PartyId, payload: Uint8Array): void;
  finish(): Transition<O>;
  destroy(): void;
}

export function round<O, B = never, D = never>(def: RoundDefinition<O, B, D>): Round<O> {
  if (!Number.isInteger(def.number) || def.number < 1 || def.number > 99) {
    throw new ProtocolConfigError(`round number must be in [1, 99], got ${def.number}`);
  }
  const broadcasts = new Map<PartyId, B>();
  const direct = new Map<PartyId, D>();
  let destroyed = false;
  const decode = <T>(codec: Codec<T> | undefined, from: PartyId, payload: Uint8Array, kind: string): T => {
    if (!codec) throw new ProtocolAbort('unexpected_message', [from], `round ${def.number} expects no ${kind} message`);
    try {
      return decodeCbor(codec, payload);
    } catch (e) {
      if (e instanceof DecodeError) {
        throw new ProtocolAbort('invalid_message', [from], `round ${def.number} ${kind} from party ${from}: ${e.message}`);
      }
      throw e;
    }
  };
  return {
    number: def.number,
    reliable: def.reliable ?? false,
    expectsBroadcast: def.broadcast !== undefined,
    expectsDirect: def.direct !== undefined,
    senders: def.senders,
    decodeBroadcast: (from, payload) => void broadcasts.set(from, decode(def.broadcast, from, payload, 'broadcast')),
    decodeDirect: (from, payload) => void direct.set(from, decode(def.direct, from, payload, 'direct')),
    finish: () => def.finish({ broadcasts, direct }),
    destroy: () => {
      if (destroyed) return;
      destroyed = true;
      def.destroy?.();
    },
  };
}

export type PartyState<O> =
  | { readonly status: 'running'; readonly round: number }
  | { readonly status: 'done'; readonly output: O }
  | { readonly status: 'aborted'; readonly abort: ProtocolAbort };

/** A protocol ready to run: produces the first transition from the session context. */
export type ProtocolStart<O> = (ctx: SessionContext) => Transition<O>;

