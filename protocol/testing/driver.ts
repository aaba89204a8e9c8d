/**
 * In-process driver: delivers messages among parties of one session until every party
 * has finished or aborted. Every message goes through the wire codec (encode, then
 * strict decode), so tests and benchmarks exercise the same bytes a network would carry.
 * Used by tests, benchmarks and the simulation harness's in-memory network.
 */
import { generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { ProtocolAbort } from '../core/errors.ts';
import type { PartyId } from '../core/ids.ts';
import { decodeMessage, encodeMessage, type ProtocolMessage } from '../core/message.ts';
import type { Party, PartyAuth } from '../core/party.ts';

export interface DriverOptions {
  /**
   * Sees every message on its way to each recipient (after the wire round trip) and returns
   * what that recipient gets instead: `[msg]` to pass it, `[]` to drop it, a changed or
   * duplicated list to tamper. A broadcast is offered once per recipient, so a test can
   * make a sender equivocate.
   */
  readonly intercept?: (msg: ProtocolMessage, to: PartyId) => ProtocolMessage[];
  /** Skip the encode/decode round trip (benchmarks of the bare state machines). */
  readonly skipWireCodec?: boolean;
}

export interface RunResult<O> {
  readonly outputs: Map<PartyId, O>;
  readonly aborts: Map<PartyId, ProtocolAbort>;
}

/** The outputs of a run in which nobody aborted; otherwise throws the first abort. */
export function outputsOrThrow<O>(result: RunResult<O>): Map<PartyId, O> {
  const abort = result.aborts.values().next().value;
  if (abort) throw abort;
  return result.outputs;
}

export function runParties<O>(parties: readonly Party<O>[], opts: DriverOptions = {}): RunResult<O> {
  const byId = new Map(parties.map((p) => [p.ctx.self, p] as const));
  const queue: { msg: ProtocolMessage; to: PartyId }[] = [];
  const aborts = new Map<PartyId, ProtocolAbort>();
  const enqueue = (msgs: ProtocolMessage[]) => {
    for (const m of msgs) {
      const wire = opts.skipWireCodec ? m : decodeMessage(encodeMessage(m));
      const recipients = wire.kind === 'direct' ? [wire.to] : parties.map((p) => p.ctx.self).filter((id) => id !== wire.from);
      for (const to of recipients) {
        for (const msg of opts.intercept ? opts.intercept(wire, to) : [wire]) queue.push({ msg, to });
      }
    }
  };
  const step = (p: Party<O>, f: () => ProtocolMessage[]) => {
    try {
      enqueue(f());
    } catch (e) {
      if (!(e instanceof ProtocolAbort)) throw e;
      aborts.set(p.ctx.self, e);
    }
  };
  for (const p of parties) step(p, () => p.begin());
  for (let i = 0; i < queue.length; i++) {
    const { msg, to } = queue[i]!;
    const p = byId.get(to);
    if (!p || p.state.status !== 'running' || !p.ctx.parties.includes(msg.from)) continue;
    step(p, () => p.receive(msg));
    if (i > 1_000_000) throw new Error('driver: message storm');
  }
  const outputs = new Map<PartyId, O>();
  for (const p of parties) {
    const s = p.state;
    if (s.status === 'done') outputs.set(p.ctx.self, s.output);
    else if (s.status === 'aborted') aborts.set(p.ctx.self, s.abort);
  }
  return { outputs, aborts };
}

/**
 * Ed25519 identity keys for a set of in-process parties (node:crypto), as `PartyAuth`
 * per party. Real nodes use their provider-held identity keys instead.
 */
export function inProcessAuth(ids: readonly PartyId[]): Map<PartyId, PartyAuth> {
  const keys = new Map<PartyId, { priv: KeyObject; pub: KeyObject }>();
  for (const id of ids) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    keys.set(id, { priv: privateKey, pub: publicKey });
  }
  const verify = (from: PartyId, message: Uint8Array, signature: Uint8Array): boolean => {
    const k = keys.get(from);
    return !!k && signature.length === 64 && edVerify(null, message, k.pub, signature);
  };
  return new Map(
    ids.map((id) => [id, { sign: (message: Uint8Array) => new Uint8Array(edSign(null, message, keys.get(id)!.priv)), verify }] as const),
  );
}
