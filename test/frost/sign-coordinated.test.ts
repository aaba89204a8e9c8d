/** FROST signing in the RFC 9591 coordinator model: one designated aggregator, no echo round. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { array, bytes, decodeCbor, encodeCbor, Party, sessionId, SessionTerminated, struct, type PartyId, type ProtocolMessage } from '../../protocol/core/index.ts';
import { frostSignCoordinated, frostSignCoordinatedProtocol } from '../../protocol/frost/index.ts';
import { FROST_SCHEMES, frostSuite, type FrostScheme } from '../../protocol/curves/ciphersuites.ts';
import { frostKeys, partyRange, runFrostSignCoordinated, systemRng } from '../../protocol/testing/frost.ts';
import { frostSignatureVerifies, subsets } from '../support/verifiers.ts';

const msg = new TextEncoder().encode('one aggregator, many signers');

describe.each(FROST_SCHEMES)('coordinated FROST signing (%s)', (scheme) => {
  it('every t-subset of a 3-of-5 key signs with any of its members aggregating; t-1 cannot start', () => {
    const keys = frostKeys(scheme, 3, 5);
    for (const [i, signers] of subsets(partyRange(5), 3).entries()) {
      const aggregator = signers[i % 3]!;
      const { signature, outputs, aborts } = runFrostSignCoordinated(keys, signers, msg, { aggregator });
      expect(aborts.size).toBe(0);
      expect(outputs.size).toBe(3);
      for (const [p, o] of outputs) expect(o.kind).toBe(p === aggregator ? 'signature' : 'share-sent');
      expect(frostSignatureVerifies(scheme, signature!.signature, msg, signature!.publicKey)).toBe(true);
    }
    const short = partyRange(2);
    const key = keys.get(1 as PartyId)!;
    const start = () => new Party({ protocol: frostSignCoordinatedProtocol(key), session: sessionId(systemRng(32)), self: 1 as PartyId, parties: short, rng: systemRng }, frostSignCoordinated(key, msg, 1 as PartyId)).begin();
    expect(start).toThrow(/needs at least/);
  });
});

describe.each(FROST_SCHEMES)('coordinated FROST signing, property (%s)', (scheme) => {
  it('random (t, n, signer subset, aggregator) up to n = 10 signs and verifies', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10 }).chain((n) =>
          fc.integer({ min: 2, max: n }).chain((t) =>
            fc.tuple(fc.constant(n), fc.constant(t), fc.shuffledSubarray(partyRange(n), { minLength: t }), fc.nat()),
          ),
        ),
        ([n, t, pool, pick]) => {
          const keys = frostKeys(scheme, t, n);
          const signers = [...pool].sort((a, b) => a - b);
          const aggregator = signers[pick % signers.length]!;
          const { signature, aborts } = runFrostSignCoordinated(keys, signers, msg, { aggregator });
          return aborts.size === 0 && !!signature && frostSignatureVerifies(scheme, signature.signature, msg, signature.publicKey);
        },
      ),
      { numRuns: 5 },
    );
  });
});

describe('coordinated signing: malicious parties', () => {
  const scheme: FrostScheme = 'eddsa-ed25519';
  const suite = frostSuite(scheme);
  const shareCodec = struct({ share: suite.scalar });

  it('a wrong signature share aborts the aggregator naming its signer', () => {
    const keys = frostKeys(scheme, 3, 4);
    const one = new Uint8Array(32);
    one[0] = 1;
    const { aborts, signature } = runFrostSignCoordinated(keys, partyRange(4), msg, {
      aggregator: 1 as PartyId,
      intercept: (m) => (m.from === 3 && m.round === 3 ? [{ ...m, payload: encodeCbor(shareCodec, { share: one }) }] : [m]),
    });
    expect(signature).toBeUndefined();
    expect(aborts.get(1 as PartyId)?.reason).toBe('invalid_signature_share');
    expect(aborts.get(1 as PartyId)?.culprits).toEqual([3]);
  });

  it('a signer refuses a commitment list that replaces its own commitments, naming the aggregator', () => {
    const keys = frostKeys(scheme, 2, 3);
    const commitments = struct({ hiding: suite.point, binding: suite.point });
    const flight2 = struct({ list: array(commitments, 3), inputs: bytes(32) });
    const { aborts, outputs } = runFrostSignCoordinated(keys, partyRange(3), msg, {
      aggregator: 1 as PartyId,
      intercept: (m, to) => {
        if (m.from !== 1 || m.round !== 2 || to !== 2) return [m];
        const { list: l, inputs } = decodeCbor(flight2, m.payload);
        return [{ ...m, payload: encodeCbor(flight2, { list: [l[0]!, l[0]!, l[2]!], inputs }) }];
      },
    });
    expect(aborts.get(2 as PartyId)?.reason).toBe('invalid_message');
    expect(aborts.get(2 as PartyId)?.culprits).toEqual([1]);
    expect(outputs.has(1 as PartyId)).toBe(false); // the aggregator never gets party 2's share
  });

  it('a coordinator that gives signers different messages or contexts gets inputs_mismatch from every side, naming no signer and producing no share', () => {
    const keys = frostKeys(scheme, 3, 4);
    const other = new Uint8Array(msg.length).fill(7);
    const cases: [string, (self: PartyId) => { message?: Uint8Array; context?: Uint8Array } | undefined][] = [
      ['another message to signer 3', (self) => (self === 3 ? { message: other } : undefined)],
      ['another context (epoch, path) to signer 2', (self) => (self === 2 ? { context: Uint8Array.of(1) } : undefined)],
      ['another message to the aggregator', (self) => (self === 1 ? { message: other } : undefined)],
    ];
    for (const [what, inputsOf] of cases) {
      const shares: number[] = [];
      const { aborts, signature } = runFrostSignCoordinated(keys, partyRange(3), msg, {
        aggregator: 1 as PartyId,
        inputsOf,
        intercept: (m) => {
          if (m.round === 3) shares.push(m.from);
          return [m];
        },
      });
      expect(signature, what).toBeUndefined();
      expect(shares, what).toEqual([]);
      // The aggregator sees the disagreement in flight 1: nobody is a culprit, nothing burns.
      expect(aborts.get(1 as PartyId)?.reason, what).toBe('inputs_mismatch');
      for (const abort of aborts.values()) expect(abort.culprits, what).toEqual([]);
    }
    // The same inputs everywhere still sign.
    expect(runFrostSignCoordinated(keys, partyRange(3), msg, { aggregator: 1 as PartyId, inputsOf: () => ({ context: Uint8Array.of(9) }) }).signature).toBeDefined();
  });

  it('a signer refuses a flight-2 list whose inputs hash is not its own, before computing a share', () => {
    const keys = frostKeys(scheme, 2, 3);
    const flight2 = struct({ list: array(struct({ hiding: suite.point, binding: suite.point }), 2), inputs: bytes(32) });
    const { aborts } = runFrostSignCoordinated(keys, partyRange(2), msg, {
      aggregator: 1 as PartyId,
      intercept: (m) => {
        if (m.from !== 1 || m.round !== 2) return [m];
        const { list } = decodeCbor(flight2, m.payload);
        return [{ ...m, payload: encodeCbor(flight2, { list, inputs: new Uint8Array(32) }) }];
      },
    });
    expect(aborts.get(2 as PartyId)).toMatchObject({ reason: 'inputs_mismatch', culprits: [] });
  });

  it('an aggregator outside the signer set is refused', () => {
    const keys = frostKeys(scheme, 2, 3);
    const { aborts, outputs } = runFrostSignCoordinated(keys, partyRange(2), msg, { aggregator: 3 as PartyId });
    expect(outputs.size).toBe(0);
    for (const p of partyRange(2)) expect(aborts.get(p)?.message).toMatch(/aggregator 3 is not one of the signers/);
  });
});

describe.each(FROST_SCHEMES)('coordinated FROST signing against a malicious aggregator (%s)', (scheme) => {
  it('a resent round-2 list — with other commitments, or the same again — gets no second share from one nonce pair', () => {
    const keys = frostKeys(scheme, 2, 3);
    const signers = [1, 2] as PartyId[];
    const [aggregator, victim] = signers as [PartyId, PartyId];
    const session = sessionId(systemRng(32));
    const make = (self: PartyId) =>
      new Party({ protocol: frostSignCoordinatedProtocol(keys.get(self)!), session, self, parties: signers, rng: systemRng }, frostSignCoordinated(keys.get(self)!, msg, aggregator));
    const [a, v] = [make(aggregator), make(victim)];
    const toAggregator = v.begin();
    a.begin();
    const lists = toAggregator.flatMap((m) => a.receive(m)).filter((m) => m.kind === 'broadcast');
    expect(lists).toHaveLength(1);
    const sharesTo = (out: readonly ProtocolMessage[]) => out.filter((m) => m.kind === 'direct' && m.to === aggregator).length;
    expect(sharesTo(v.receive(lists[0]!))).toBe(1);
    // The aggregator swaps its own two commitments (valid points, another list) and resends, then resends the original.
    const generic = struct({ list: array(array(bytes({ min: 32, max: 33 }), 2), 2), inputs: bytes(32) });
    const { list: entries, inputs } = decodeCbor(generic, lists[0]!.payload);
    const swapped = encodeCbor(generic, { list: [[entries[0]![1]!, entries[0]![0]!], entries[1]!], inputs });
    for (const resend of [{ ...lists[0]!, payload: swapped }, lists[0]!]) {
      let out: ProtocolMessage[] = [];
      try {
        out = v.receive(resend);
      } catch (e) {
        expect(e).toBeInstanceOf(SessionTerminated);
      }
      expect(sharesTo(out)).toBe(0);
    }
    expect(v.state.status).toBe('done');
  });
});
