/**
 * The lockstep combinator (protocol/core/lockstep.ts) on a two-round toy protocol whose rounds
 * record what they saw and when they were destroyed: instances keep to their own contexts and
 * payloads, and any abort ends the batch with every instance's state destroyed.
 */
import { describe, expect, it } from 'vitest';
import { bytes, encodeCbor, Party, ProtocolAbort, round, sessionId, type Bytes, type PartyId, type ProtocolStart } from '../../protocol/core/index.ts';
import { instanceContext, lockstep } from '../../protocol/core/lockstep.ts';
import { runParties } from '../../protocol/testing/driver.ts';
import { systemRng } from '../../protocol/testing/frost.ts';

const PROTOCOL = 'toy/v1';
const payload = bytes({ min: 1, max: 64 });
const text = (s: string) => new TextEncoder().encode(s) as Bytes;
const read = (b: Uint8Array) => new TextDecoder().decode(b);

interface Log {
  /** What each instance of each party received, as "instance:from:payload". */
  readonly seen: string[];
  /** Rounds destroyed, as "party/instance/round". */
  readonly destroyed: string[];
}

/**
 * Instance `i` broadcasts "<i>@<its session>" in round 1 and, in round 2, what it received; it
 * aborts (blaming the sender) when `failAt` names its instance and round, once it received.
 */
function toy(i: number, log: Log, failAt?: { instance: number; round: number }): ProtocolStart<string> {
  return (ctx) => {
    const tag = `${ctx.self}/${i}`;
    /** Records what round `r` received, and aborts where `failAt` says. */
    const receive = (r: number, broadcasts: ReadonlyMap<PartyId, Bytes>) => {
      for (const [from, b] of broadcasts) {
        log.seen.push(`${i}:${from}:${read(b)}`);
        if (failAt && failAt.instance === i && failAt.round === r) throw new ProtocolAbort('consistency_check_failed', [from], `instance ${i} refuses round ${r}`);
      }
    };
    const second = round<string, Bytes>({
      number: 2,
      broadcast: payload,
      finish: ({ broadcasts }) => {
        receive(2, broadcasts);
        return { send: {}, output: `${i} done` };
      },
      destroy: () => void log.destroyed.push(`${tag}/2`),
    });
    const first = round<string, Bytes>({
      number: 1,
      broadcast: payload,
      finish: ({ broadcasts }) => {
        receive(1, broadcasts);
        return { send: { broadcast: encodeCbor(payload, text(`${i} round 2`)) }, next: second };
      },
      destroy: () => void log.destroyed.push(`${tag}/1`),
    });
    return { send: { broadcast: encodeCbor(payload, text(`${i}@${ctx.session.slice(0, 8)}`)) }, next: first };
  };
}

function run(count: number, failAt?: { party: PartyId; instance: number; round: number }) {
  const log: Log = { seen: [], destroyed: [] };
  const session = sessionId(systemRng(32));
  const parties = ([1, 2] as PartyId[]).map(
    (self) => new Party({ protocol: PROTOCOL, session, self, parties: [1, 2] as PartyId[], rng: systemRng }, lockstep(count, (i) => toy(i, log, failAt?.party === self ? failAt : undefined))),
  );
  return { ...runParties(parties), log, session };
}

describe('lockstep', () => {
  it('runs each instance in a context of its own and hands it exactly its own payloads; the output is the instances\' in order', () => {
    const { outputs, aborts, log, session } = run(3);
    expect([...aborts.values()]).toEqual([]);
    expect(outputs.get(1 as PartyId)).toEqual(['0 done', '1 done', '2 done']);
    const ctx = { protocol: PROTOCOL, session, self: 1 as PartyId, parties: [1, 2] as PartyId[], rng: systemRng };
    const contexts = [0, 1, 2].map((i) => instanceContext(ctx, 3, i));
    expect(new Set(contexts.map((c) => c.session)).size).toBe(3);
    expect(contexts.map((c) => c.session)).not.toContain(session);
    expect(contexts.map((c) => c.protocol)).toEqual(['toy/v1/instance-1-of-3', 'toy/v1/instance-2-of-3', 'toy/v1/instance-3-of-3']);
    // A batch of another size names its instances otherwise.
    expect(instanceContext(ctx, 2, 0).session).not.toBe(contexts[0]!.session);
    for (const i of [0, 1, 2]) {
      expect(log.seen).toContain(`${i}:2:${i}@${contexts[i]!.session.slice(0, 8)}`);
      expect(log.seen).toContain(`${i}:1:${i} round 2`);
    }
  });

  it('an abort in one instance ends the session naming its culprit, and destroys every instance\'s rounds, those already advanced included', () => {
    // Party 1's instance 2 (of 3) refuses round 1 after instances 0 and 1 moved on to round 2.
    const { outputs, aborts, log } = run(3, { party: 1 as PartyId, instance: 2, round: 1 });
    expect(outputs.has(1 as PartyId)).toBe(false);
    expect([aborts.get(1 as PartyId)?.reason, aborts.get(1 as PartyId)?.culprits]).toEqual(['consistency_check_failed', [2]]);
    for (const i of [0, 1, 2]) expect(log.destroyed).toContain(`1/${i}/1`);
    for (const i of [0, 1]) expect(log.destroyed).toContain(`1/${i}/2`);
  });

  it('a message without exactly one payload per instance is refused, blaming its sender', () => {
    const log: Log = { seen: [], destroyed: [] };
    const session = sessionId(systemRng(32));
    const parties = ([1, 2] as PartyId[]).map((self) => new Party({ protocol: PROTOCOL, session, self, parties: [1, 2] as PartyId[], rng: systemRng }, lockstep(3, (i) => toy(i, log))));
    const { aborts } = runParties(parties, {
      intercept: (msg, to) => (msg.from === 2 && to === 1 && msg.round === 1 ? [{ ...msg, payload: encodeCbor(payload, text('not an array')) }] : [msg]),
    });
    expect([aborts.get(1 as PartyId)?.reason, aborts.get(1 as PartyId)?.culprits]).toEqual(['invalid_message', [2]]);
    for (const i of [0, 1, 2]) expect(log.destroyed).toContain(`1/${i}/1`);
  });

  it('takes 1 to 16 instances', () => {
    expect(() => lockstep(0, (i) => toy(i, { seen: [], destroyed: [] }))).toThrow(/1 to 16/);
    expect(() => lockstep(17, (i) => toy(i, { seen: [], destroyed: [] }))).toThrow(/1 to 16/);
  });
});
