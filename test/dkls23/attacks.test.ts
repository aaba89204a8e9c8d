/**
 * DKLs23 signing against the adversaries of SECURITY.md, written as code: a co-signer that
 * replays a session under a reused id with its randomness fixed, a KOS receiver probing the
 * victim's Δ across many concurrent sessions, and a coordinator that hands signers different
 * inputs. Each asserts what the attacker gets, not only that something aborted.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Party, ProtocolAbort, sessionId, type PartyId, type ProtocolMessage } from '../../protocol/core/index.ts';
import { runParties } from '../../protocol/testing/index.ts';
import { dklsSign, dklsSignProtocol } from '../../protocol/dkls23/index.ts';
import { dklsKeys } from '../../protocol/testing/dkls23.ts';
import { TAU_BYTES } from '../../protocol/dkls23/rvole.ts';
import { pairLabel, signTranscript, type OtPairGuard } from '../../protocol/dkls23/sign.ts';
import { systemRng } from '../../protocol/testing/frost.ts';
import { deltaBit, encodeFields, fixedRng, kosProbe, payloadFields, recoverKeyFromReplay } from '../support/adversaries.ts';

const sha256 = (m: string) => createHash('sha256').update(m).digest();
const digest = sha256('send everything to the attacker');
const keys = dklsKeys(2, 3);
const groupKey = keys.get(1 as PartyId)!.core.groupKey;
const [honest, attacker] = [1 as PartyId, 2 as PartyId];
const pair = [honest, attacker];

/** A guard that records what the protocol asks of it. */
function recordingGuard(): OtPairGuard & { retired: Set<PartyId>; retireCalls: PartyId[] } {
  const retired = new Set<PartyId>();
  const retireCalls: PartyId[] = [];
  return {
    retired,
    retireCalls,
    usable: (peer) => !retired.has(peer),
    retire: (peer) => {
      retireCalls.push(peer);
      retired.add(peer);
    },
  };
}

describe('DKLs23 against a co-signer that replays a session id (finding 1)', () => {
  it('the same session id twice, the attacker replaying its round 1 byte for byte: the honest corrections are fresh pads and the key-recovery algebra finds nothing', () => {
    const session = sessionId(sha256('one session id, accepted twice'));
    const run = () => {
      let tau: Uint8Array | undefined;
      let replayed: Uint8Array | undefined;
      const parties = pair.map(
        (self) => new Party({ protocol: dklsSignProtocol, session, self, parties: pair, rng: self === attacker ? fixedRng('attacker') : systemRng }, dklsSign(keys.get(self)!, digest)),
      );
      const { outputs, aborts } = runParties(parties, {
        intercept: (msg, to) => {
          if (msg.from === honest && to === attacker && msg.kind === 'direct' && msg.round === 2) tau = payloadFields(msg.payload).find((f) => f.length === TAU_BYTES);
          if (msg.from === attacker && msg.kind === 'direct' && msg.round === 1) replayed = msg.payload;
          return [msg];
        },
      });
      expect([...aborts.values()]).toEqual([]);
      return { tau: tau!, replayed: replayed!, signature: outputs.get(attacker)!.signature };
    };
    const first = run();
    const second = run();
    // The attack was mounted: the attacker's round-1 message to the victim is identical in both runs.
    expect(Buffer.from(second.replayed).equals(Buffer.from(first.replayed))).toBe(true);
    // ... and yields nothing: no δ read off τ turns the two signatures into the key.
    expect(recoverKeyFromReplay(first.tau, second.tau, first.signature, second.signature, digest, groupKey)).toBeUndefined();
    // Every row of τ is padded afresh (before the fix, input 1 — the key share — gave a zero difference on every row).
    const sameRows = Array.from({ length: 8 }, (_, j) => Buffer.from(first.tau.subarray(96 * j + 32, 96 * j + 64)).equals(Buffer.from(second.tau.subarray(96 * j + 32, 96 * j + 64))));
    expect(sameRows.every((same) => !same)).toBe(true);
  });
});

describe('DKLs23 against a Δ prober running many sessions at once (finding 2)', () => {
  it('after the first failed KOS check no further check with that Δ is evaluated, in any of K concurrent sessions; the prober learns at most (passed probes + 1) bits', () => {
    const [victim, prober] = [honest, attacker];
    const delta = keys.get(victim)!.pairs.get(prober)!.otSender.delta;
    const seeds = keys.get(prober)!.pairs.get(victim)!.otReceiver;
    const guard = recordingGuard();
    const K = 12;
    const lucky = 3; // the prober guesses the first three bits right (probability 1/8), then misses
    const sessions = Array.from({ length: K }, (_, k) => {
      const session = sessionId(sha256(`probe ${k}`));
      const v = new Party({ protocol: dklsSignProtocol, session, self: victim, parties: pair, rng: systemRng }, dklsSign(keys.get(victim)!, digest, { guard }));
      const p = new Party({ protocol: dklsSignProtocol, session, self: prober, parties: pair, rng: systemRng }, dklsSign(keys.get(prober)!, digest));
      const label = pairLabel(signTranscript(dklsSignProtocol, session, pair, groupKey, digest, new Uint8Array()), victim, prober);
      const right = deltaBit(delta, k);
      const guess = (k < lucky ? right : k === lucky ? 1 - right : k % 2 ? right : 1 - right) as 0 | 1;
      const probe = kosProbe(seeds, label, { column: k, row: 5, guess }, systemRng);
      // The prober's round 1, with its extension message to the victim replaced by the probe.
      const round1 = p.begin().map((m): ProtocolMessage => (m.kind === 'direct' && m.to === victim ? { ...m, payload: encodeFields([probe.u, probe.xTilde, probe.tTilde, probe.nonce]) } : m));
      v.begin();
      return { v, round1, guessedRight: guess === right };
    });
    // The prober stalled every session in round 1 and now releases them all.
    const outcomes = sessions.map(({ v, round1, guessedRight }) => {
      let sent: ProtocolMessage[] = [];
      try {
        for (const m of round1) sent = sent.concat(v.receive(m));
      } catch (e) {
        if (!(e instanceof ProtocolAbort)) throw e;
      }
      const state = v.state;
      const answered = sent.some((m) => m.kind === 'direct' && m.to === prober);
      return { guessedRight, answered, abort: state.status === 'aborted' ? [state.abort.reason, state.abort.culprits] : undefined };
    });
    // Probes before the miss passed: each taught the prober one bit.
    for (const o of outcomes.slice(0, lucky)) expect(o).toEqual({ guessedRight: true, answered: true, abort: undefined });
    // The miss fails the check, names the prober and retires the pair in the same step.
    expect(outcomes[lucky]).toEqual({ guessedRight: false, answered: false, abort: ['consistency_check_failed', [prober]] });
    expect(guard.retireCalls).toEqual([prober]);
    // Every later probe is refused before any check: right and wrong guesses look the same.
    const later = outcomes.slice(lucky + 1);
    expect(later.some((o) => o.guessedRight) && later.some((o) => !o.guessedRight)).toBe(true);
    for (const o of later) expect([o.answered, o.abort]).toEqual([false, ['pair_retired', [prober]]]);
    // The bound: bits learned = probes that passed + the one that failed.
    const bitsLearned = outcomes.filter((o) => o.answered).length + 1;
    expect(bitsLearned).toBe(lucky + 1);
  });
});

describe('DKLs23 against a coordinator that gives signers different inputs (finding 3)', () => {
  const signers = [1, 2, 3] as PartyId[];
  const run = (inputs: (self: PartyId) => { digest: Uint8Array; context: Uint8Array }) => {
    const session = sessionId(systemRng(32));
    const guards = new Map(signers.map((p) => [p, recordingGuard()] as const));
    const parties = signers.map((self) => {
      const { digest: d, context } = inputs(self);
      return new Party({ protocol: dklsSignProtocol, session, self, parties: signers, rng: systemRng }, dklsSign(keys.get(self)!, d, { context, guard: guards.get(self)! }));
    });
    return { ...runParties(parties), guards };
  };
  const expectCoordinatorBlamed = ({ outputs, aborts, guards }: ReturnType<typeof run>) => {
    expect(outputs.size).toBe(0);
    expect([...aborts.values()].map((a) => [a.reason, a.culprits])).toEqual(signers.map(() => ['inputs_mismatch', []]));
    for (const g of guards.values()) expect(g.retireCalls).toEqual([]);
  };

  it('another digest for one signer: every signer aborts with inputs_mismatch, nobody is named, no pair is retired', () => {
    expectCoordinatorBlamed(run((self) => ({ digest: self === 3 ? sha256('something else') : digest, context: new Uint8Array() })));
  });
  it('another derivation path or epoch in one signer\'s context: the same', () => {
    expectCoordinatorBlamed(run((self) => ({ digest, context: Uint8Array.of(self === 2 ? 1 : 0) })));
  });
});
