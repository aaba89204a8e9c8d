import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { array, bytes, decodeCbor, encodeCbor, Party, type ProtocolStart, ProtocolAbort, sessionId, SessionTerminated, type PartyId, type ProtocolMessage } from '../../protocol/core/index.ts';
import { inProcessAuth, runParties } from '../../protocol/testing/index.ts';
import { decodeDklsKeyShare, dklsRefresh, dklsRefreshProtocol, dklsReshare, dklsReshareProtocol, dklsSign, lagrangeAtZero, dklsSignProtocol, encodeDklsKeyShare, type DklsKeyShare } from '../../protocol/dkls23/index.ts';
import { dklsKeys, runDklsKeygen, runDklsSign } from '../../protocol/testing/dkls23.ts';
import { partyRange, systemRng } from '../../protocol/testing/frost.ts';
import { opensslEcdsaVerifies, subsets } from '../support/verifiers.ts';
import { DecodeError } from '../../protocol/core/errors.ts';

const digest = createHash('sha256').update('threshold ECDSA for everyone').digest();
const N = secp256k1.Point.Fn.ORDER;
const sha256 = (m: string) => createHash('sha256').update(m).digest();

function expectValid(keys: ReadonlyMap<PartyId, DklsKeyShare>, signers: PartyId[], msg = digest) {
  const { outputs, aborts } = runDklsSign(keys, signers, msg);
  expect([...aborts.values()].map((a) => a.message)).toEqual([]);
  expect(outputs.size).toBe(signers.length);
  const sigs = new Set([...outputs.values()].map((o) => Buffer.from(o!.signature).toString('hex')));
  expect(sigs.size).toBe(1);
  const out = [...outputs.values()][0]!;
  const pk = keys.get(signers[0]!)!.core.groupKey;
  expect(secp256k1.verify(out.signature, msg, pk, { prehash: false, lowS: true })).toBe(true);
  return { ...out, publicKey: pk };
}

/** Replaces field `index` of a message payload (every DKLs23 payload is an array of byte strings). */
function tamperField(msg: ProtocolMessage, index: number, change: (b: Uint8Array) => Uint8Array): ProtocolMessage {
  const codec = array(bytes({ min: 0, max: 1 << 20 }), { min: 1, max: 8 });
  const fields = decodeCbor(codec, msg.payload);
  fields[index] = Uint8Array.from(change(fields[index]!));
  return { ...msg, payload: encodeCbor(codec, fields) };
}
const flipByte = (at: number) => (b: Uint8Array) => {
  const c = Uint8Array.from(b);
  c[at]! ^= 1;
  return c;
};

const keys23 = dklsKeys(2, 3);

describe('DKLs23 ECDSA signatures', () => {
  it('verify with noble and with OpenSSL, are low-S, and the recovery id recovers the group key (ecrecover)', () => {
    for (const text of ['threshold ECDSA for everyone', 'another']) {
      const msg = sha256(text);
      const out = expectValid(keys23, partyRange(2), msg);
      expect(out.signature.length).toBe(64);
      expect(opensslEcdsaVerifies(out.signature, text, out.publicKey)).toBe(true);
      expect(opensslEcdsaVerifies(out.signature, 'other', out.publicKey)).toBe(false);
      const sig = secp256k1.Signature.fromBytes(out.signature, 'compact');
      expect(sig.hasHighS()).toBe(false);
      expect([0, 1]).toContain(out.recoveryId);
      const recovered = sig.addRecoveryBit(out.recoveryId).recoverPublicKey(msg).toBytes(true);
      expect(Buffer.from(recovered).toString('hex')).toBe(Buffer.from(out.publicKey).toString('hex'));
    }
  });

  it('the verifier we use (noble, DER, low-S) agrees with every Wycheproof secp256k1/SHA-256 Bitcoin vector', () => {
    const file = JSON.parse(readFileSync(new URL('../../../shared/vectors/wycheproof/ecdsa_secp256k1_sha256_bitcoin_test.json', import.meta.url), 'utf8')) as {
      testGroups: { publicKey: { uncompressed: string }; tests: { tcId: number; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable' }[] }[];
    };
    let checked = 0;
    for (const g of file.testGroups) {
      for (const t of g.tests) {
        let ok: boolean;
        try {
          ok = secp256k1.verify(Buffer.from(t.sig, 'hex'), Buffer.from(t.msg, 'hex'), Buffer.from(g.publicKey.uncompressed, 'hex'), { format: 'der', lowS: true });
        } catch {
          ok = false;
        }
        if (t.result !== 'acceptable') expect([t.tcId, ok]).toEqual([t.tcId, t.result === 'valid']);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(400);
  });

  it('with an aggregator, only it combines and outputs the signature; the others finish with nothing', () => {
    for (const aggregator of [1, 3] as PartyId[]) {
      const { outputs, aborts } = runDklsSign(keys23, partyRange(3), digest, { aggregator });
      expect(aborts.size).toBe(0);
      expect([...outputs].filter(([, o]) => o !== undefined).map(([p]) => p)).toEqual([aggregator]);
      expect(secp256k1.verify(outputs.get(aggregator)!.signature, digest, keys23.get(1 as PartyId)!.core.groupKey, { prehash: false })).toBe(true);
    }
  });

  it('every signer set of at least t signs; a fresh nonce every time (two signatures of one digest differ)', () => {
    const a = expectValid(keys23, partyRange(2));
    const b = expectValid(keys23, partyRange(2));
    expect(Buffer.from(a.signature.subarray(0, 32)).equals(Buffer.from(b.signature.subarray(0, 32)))).toBe(false);
    expectValid(keys23, partyRange(3));
  });
});

describe('DKLs23 threshold semantics', () => {
  it('for every n <= 5 and t: every t-subset signs and t-1 signers cannot start a session', { timeout: 240_000 }, () => {
    for (let n = 2; n <= 5; n++) {
      for (let t = 2; t <= n; t++) {
        const keys = dklsKeys(t, n);
        const groupKeys = new Set([...keys.values()].map((k) => Buffer.from(k.core.groupKey).toString('hex')));
        expect(groupKeys.size).toBe(1);
        for (const signers of subsets(partyRange(n), t)) expectValid(keys, signers);
        const short = partyRange(t - 1);
        const key = keys.get(short[0]!)!;
        expect(() => new Party({ protocol: dklsSignProtocol, session: sessionId(systemRng(32)), self: key.core.self, parties: short, rng: systemRng }, dklsSign(key, digest)).begin()).toThrow(
          /cannot sign/,
        );
        // Interpolating any t-1 shares at 0 gives a secret whose public key is not the group key.
        for (const few of subsets(partyRange(n), t - 1)) {
          const guess = few.reduce((acc, p) => (acc + lagrangeAtZero(p, few) * secp256k1.Point.Fn.fromBytes(keys.get(p)!.core.signingShare)) % N, 0n);
          expect(Buffer.from(secp256k1.Point.BASE.multiply(guess).toBytes(true)).equals(Buffer.from(key.core.groupKey))).toBe(false);
        }
      }
    }
  });

  it('property: random (t, n <= 7) and a random signer set of size >= t signs', { timeout: 240_000 }, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 7 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n }), fc.shuffledSubarray(partyRange(n), { minLength: 1 }))),
        ([n, t, pick]) => {
          const keys = dklsKeys(t, n);
          const signers = [...pick].sort((x, y) => x - y);
          if (signers.length < t) {
            const { outputs, aborts } = runDklsSign(keys, signers, digest);
            expect(outputs.size).toBe(0);
            for (const a of aborts.values()) expect(a.message).toMatch(/cannot sign/);
            return;
          }
          expectValid(keys, signers);
        },
      ),
      { numRuns: 4 },
    );
  });
});

describe('DKLs23 aborts name the culprit', () => {
  const signers = partyRange(3);
  const attack = (round: number, kind: 'broadcast' | 'direct', from: PartyId, field: number, change: (b: Uint8Array) => Uint8Array) => {
    const { outputs, aborts } = runDklsSign(keys23, signers, digest, {
      intercept: (msg, to) => (msg.round === round && msg.kind === kind && msg.from === from && to !== from ? [tamperField(msg, field, change)] : [msg]),
    });
    // The tamperer itself received honest messages; no honest party may finish.
    expect([...outputs.keys()].filter((p) => p !== from)).toEqual([]);
    return [...aborts.values()];
  };
  const expectBlamed = (aborts: ProtocolAbort[], reason: string, culprit: PartyId) => {
    const honest = aborts.filter((a) => a.culprits.length > 0);
    expect(honest.length).toBeGreaterThan(0);
    for (const a of honest) expect([a.reason, a.culprits]).toEqual([reason, [culprit]]);
  };

  it('a tampered OT-extension message fails the KOS check', () => {
    expectBlamed(attack(1, 'direct', 2 as PartyId, 0, flipByte(700)), 'consistency_check_failed', 2 as PartyId);
  });
  it('tampered OT-extension check values fail the KOS check', () => {
    expectBlamed(attack(1, 'direct', 3 as PartyId, 2, flipByte(3)), 'consistency_check_failed', 3 as PartyId);
  });
  it('tampered multiplication corrections or a wrong χ-check value fail the RVOLE check', () => {
    expectBlamed(attack(2, 'direct', 1 as PartyId, 0, flipByte(1000)), 'consistency_check_failed', 1 as PartyId);
    expectBlamed(attack(2, 'direct', 2 as PartyId, 2, flipByte(0)), 'consistency_check_failed', 2 as PartyId);
  });
  it('a Γ that does not match the multiplication fails the γ/ψ check', () => {
    const otherPoint = () => secp256k1.Point.BASE.multiply(12345n).toBytes(true);
    expectBlamed(attack(2, 'direct', 3 as PartyId, 3, otherPoint), 'consistency_check_failed', 3 as PartyId);
  });
  it('a Γ^v that does not match the multiplication fails the γ/ψ check too (the ρ-weighted half of the batched check)', () => {
    const otherPoint = () => secp256k1.Point.BASE.multiply(54321n).toBytes(true);
    expectBlamed(attack(2, 'direct', 2 as PartyId, 4, otherPoint), 'consistency_check_failed', 2 as PartyId);
  });
  it('a wrong commitment opening (instance point or salt) is blamed on its sender', () => {
    expectBlamed(attack(2, 'broadcast', 2 as PartyId, 1, flipByte(5)), 'invalid_commitment_opening', 2 as PartyId);
  });
  it('an invalid point is rejected as a malformed message from its sender', () => {
    const aborts = attack(2, 'broadcast', 1 as PartyId, 0, () => Uint8Array.from({ length: 33 }, () => 0xff));
    expectBlamed(aborts, 'invalid_message', 1 as PartyId);
  });
  it('a wrong u/w share makes the signature invalid, and every party aborts without output', () => {
    const aborts = attack(3, 'broadcast', 2 as PartyId, 0, () => secp256k1.Point.Fn.toBytes(7n));
    expect(aborts.filter((a) => a.reason === 'invalid_signature').length).toBe(2);
  });

  it('a message replayed from another session is refused and harms neither session; a finished or aborted session never signs again', () => {
    const session = (s: string) => sessionId(createHash('sha256').update(s).digest());
    const make = (sid: string) =>
      signers.slice(0, 2).map((self) => new Party({ protocol: dklsSignProtocol, session: session(sid), self, parties: signers.slice(0, 2), rng: systemRng }, dklsSign(keys23.get(self)!, digest)));
    const [a1, a2] = make('A');
    const [b1, b2] = make('B');
    const fromA1 = a1!.begin();
    const fromA2 = a2!.begin();
    const fromB2 = b2!.begin();
    const pendingB1 = b1!.begin();
    for (const m of fromA2) expect(() => b1!.receive(m)).toThrow(/another session/);
    expect(b1!.state.status).toBe('running');
    // Session A runs to the end on its own messages.
    let queue: [Party<unknown>, ProtocolMessage][] = [...fromA1.map((m) => [a2!, m] as [Party<unknown>, ProtocolMessage]), ...fromA2.map((m) => [a1!, m] as [Party<unknown>, ProtocolMessage])];
    const seen: ProtocolMessage[] = [];
    while (queue.length) {
      const [p, m] = queue.shift()!;
      seen.push(m);
      const out = p.receive(m);
      queue = queue.concat(out.map((o) => [o.from === a1!.ctx.self ? a2! : a1!, o] as [Party<unknown>, ProtocolMessage]));
    }
    expect(a1!.state.status).toBe('done');
    // Replaying any of A's messages to a finished party cannot start a second signature.
    for (const m of seen.filter((m) => m.from === a2!.ctx.self)) expect(() => a1!.receive(m)).toThrow(SessionTerminated);
    // Session B, which was offered A's messages, still completes on its own ones.
    let queueB: [Party<unknown>, ProtocolMessage][] = fromB2.map((m) => [b1!, m] as [Party<unknown>, ProtocolMessage]);
    queueB = queueB.concat(pendingB1.map((m) => [b2!, m] as [Party<unknown>, ProtocolMessage]));
    while (queueB.length) {
      const [p, m] = queueB.shift()!;
      const out = p.receive(m);
      queueB = queueB.concat(out.map((o) => [o.from === b1!.ctx.self ? b2! : b1!, o] as [Party<unknown>, ProtocolMessage]));
    }
    expect([b1!.state.status, b2!.state.status]).toEqual(['done', 'done']);
    const sigB = (b1!.state as { output: { signature: Uint8Array } }).output.signature;
    expect(secp256k1.verify(sigB, digest, keys23.get(1 as PartyId)!.core.groupKey, { prehash: false })).toBe(true);
    // A finished session is terminal too: its own messages again change nothing.
    expect(() => b1!.receive(fromB2[0]!)).toThrow(SessionTerminated);
    // An aborted session is terminal.
    const [c1, c2] = make('C');
    const fromC2 = c2!.begin();
    c1!.begin();
    c1!.cancel('test');
    expect(() => c1!.receive(fromC2[0]!)).toThrow(SessionTerminated);
  });
});

describe('DKLs23 key generation', () => {
  it('gives every party the same 33-byte key and chain code, and a share that round-trips its strict codec', () => {
    const groupKeys = new Set([...keys23.values()].map((k) => Buffer.from(k.core.groupKey).toString('hex')));
    expect(groupKeys.size).toBe(1);
    expect(keys23.get(1 as PartyId)!.core.groupKey.length).toBe(33);
    expect(new Set([...keys23.values()].map((k) => Buffer.from(k.core.chainCode!).toString('hex'))).size).toBe(1);
    // Both ends of a pair hold the same zero seed; each extension sender's seeds are the receiver's chosen ones.
    const [k1, k2] = [keys23.get(1 as PartyId)!, keys23.get(2 as PartyId)!];
    expect(Buffer.from(k1.pairs.get(2 as PartyId)!.zeroSeed).equals(Buffer.from(k2.pairs.get(1 as PartyId)!.zeroSeed))).toBe(true);
    const sender = k1.pairs.get(2 as PartyId)!.otSender;
    const receiver = k2.pairs.get(1 as PartyId)!.otReceiver;
    for (let i = 0; i < 128; i++) {
      const chosen = (sender.delta[i >>> 3]! >>> (i & 7)) & 1 ? receiver.seeds1 : receiver.seeds0;
      expect(Buffer.from(sender.seeds.subarray(16 * i, 16 * i + 16)).equals(Buffer.from(chosen.subarray(16 * i, 16 * i + 16)))).toBe(true);
    }
    const again = decodeDklsKeyShare(encodeDklsKeyShare(k1));
    expect(Buffer.from(encodeDklsKeyShare(again)).equals(Buffer.from(encodeDklsKeyShare(k1)))).toBe(true);
    const core = Uint8Array.from(encodeDklsKeyShare(k1));
    core[20]! ^= 0x40;
    expect(() => decodeDklsKeyShare(core)).toThrow(DecodeError);
    expect(() => decodeDklsKeyShare(encodeDklsKeyShare(k1).subarray(0, 100))).toThrow(DecodeError);
  });

  it('a bad base-OT proof of knowledge, a bad base-OT point and a wrong zero-seed opening each abort naming the sender', () => {
    const run = (round: number, from: PartyId, field: number, change: (b: Uint8Array) => Uint8Array) => {
      const { outputs, aborts } = runDklsKeygen(2, 3, {
        intercept: (msg, to) => (msg.round === round && msg.kind === 'direct' && msg.from === from && to !== from ? [tamperField(msg, field, change)] : [msg]),
      });
      expect([...outputs.keys()].filter((p) => p !== from)).toEqual([]);
      const blamed = [...aborts.values()].filter((a) => a.culprits.length);
      // Every honest party aborted naming someone: an empty list must fail, not pass vacuously.
      expect(blamed.length).toBe(2);
      return blamed;
    };
    for (const a of run(3, 2 as PartyId, 1, flipByte(40))) expect([a.reason, a.culprits]).toEqual(['invalid_proof', [2]]);
    const identity = (b: Uint8Array) => {
      const c = Uint8Array.from(b);
      c.set(new Uint8Array(32), 0); // ristretto255's identity: a valid encoding, refused as a B
      return c;
    };
    for (const a of run(4, 3 as PartyId, 0, identity)) expect([a.reason, a.culprits]).toEqual(['invalid_message', [3]]);
    for (const a of run(4, 1 as PartyId, 1, flipByte(0))) expect([a.reason, a.culprits]).toEqual(['invalid_commitment_opening', [1]]);
  });
});

describe('DKLs23 refresh and resharing', () => {
  const run = <O>(ids: readonly PartyId[], start: (self: PartyId) => ProtocolStart<O>, protocol: string) => {
    const auth = inProcessAuth(ids);
    const session = sessionId(systemRng(32));
    const result = runParties(ids.map((self) => new Party({ protocol, session, self, parties: ids, rng: systemRng, auth: auth.get(self)! }, start(self))));
    expect([...result.aborts.values()].map((a) => a.message)).toEqual([]);
    return result.outputs;
  };

  it('refresh changes every share and every OT setup, keeps the key, and every t-subset still signs', () => {
    const ids = partyRange(3);
    const next = run(ids, (self) => dklsRefresh(keys23.get(self)!), dklsRefreshProtocol) as Map<PartyId, DklsKeyShare>;
    for (const p of ids) {
      const [old, now] = [keys23.get(p)!, next.get(p)!];
      expect(Buffer.from(now.core.groupKey).equals(Buffer.from(old.core.groupKey))).toBe(true);
      expect(Buffer.from(now.core.signingShare).equals(Buffer.from(old.core.signingShare))).toBe(false);
      expect(Buffer.from(now.pairs.values().next().value!.otSender.delta).equals(Buffer.from(old.pairs.values().next().value!.otSender.delta))).toBe(false);
    }
    for (const signers of subsets(ids, 2)) expectValid(next, signers);
  });

  it('resharing 2-of-3 to 3-of-4 without party 1: the new committee signs with any 3, the leaving dealer gets nothing', () => {
    const dealers = [1, 2] as PartyId[];
    const newParties = [2, 3, 4, 5] as PartyId[];
    const ids = [1, 2, 3, 4, 5] as PartyId[];
    const out = run(ids, (self) => dklsReshare({ dealers, newParties, newThreshold: 3 }, dealers.includes(self) ? keys23.get(self) : undefined), dklsReshareProtocol);
    expect(out.get(1 as PartyId)).toBeUndefined();
    const next = new Map(newParties.map((p) => [p, out.get(p)!] as const));
    for (const k of next.values()) expect([k.core.threshold, k.core.parties, [...k.pairs.keys()]]).toEqual([3, newParties, newParties.filter((p) => p !== k.core.self)]);
    for (const signers of subsets(newParties, 3)) expectValid(next, signers);
  });
});
