/**
 * Signing with work done ahead of the message, at the protocol level: DKLs23 presignatures
 * (rounds 1–2 ahead, one flight online) and FROST nonces committed ahead. What a node adds on top
 * (durable single use, epoch binding) is tested in test/node/presignatures.test.ts.
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { decodeCbor, Party, sessionId, type PartyId } from '../../protocol/core/index.ts';
import { onlineShareCodec } from '../../protocol/dkls23/presigned.ts';
import { decodeDklsPresignature, encodeDklsPresignature, type DklsPresignature } from '../../protocol/dkls23/index.ts';
import { Fn, N } from '../../protocol/dkls23/sign-parts.ts';
import { dklsKeys, runDklsPresign, runDklsSignPresigned } from '../../protocol/testing/dkls23.ts';
import { frostKeys, runFrostSignPresigned, systemRng } from '../../protocol/testing/frost.ts';
import { frostCommitAhead, frostPresignedSignProtocol, frostSignPresigned } from '../../protocol/frost/presigned.ts';
import { schemeOf } from '../../protocol/schemes/index.ts';
import { tweakFrostKeyShare } from '../../protocol/threshold/tweak.ts';
import { frostSignatureVerifies, opensslEcdsaVerifies, subsets } from '../support/verifiers.ts';

const preimage = 'presigned, then signed';
const digest = createHash('sha256').update(preimage).digest();

describe('DKLs23 presignatures', () => {
  const keys = dklsKeys(2, 3);
  const groupKey = keys.get(1 as PartyId)!.core.groupKey;

  it('every 2-subset of a 2-of-3 key presigns and then signs in one flight; OpenSSL verifies', () => {
    for (const signers of subsets([1, 2, 3] as PartyId[], 2)) {
      const presigned = runDklsPresign(keys, signers);
      expect([...presigned.aborts.values()]).toEqual([]);
      // Every signer holds the same R and its own secrets.
      expect(new Set([...presigned.outputs.values()].map((p) => Buffer.from(p.instance).toString('hex'))).size).toBe(1);
      const { outputs, aborts } = runDklsSignPresigned(presigned.outputs, digest, { aggregator: signers[0]! });
      expect([...aborts.values()]).toEqual([]);
      const sig = outputs.get(signers[0]!)!;
      expect(outputs.get(signers[1]!)).toBeUndefined();
      expect(opensslEcdsaVerifies(sig.signature, preimage, groupKey)).toBe(true);
      const recovered = secp256k1.Signature.fromBytes(sig.signature, 'compact').addRecoveryBit(sig.recoveryId).recoverPublicKey(digest).toBytes(true);
      expect(Buffer.from(recovered).equals(Buffer.from(groupKey))).toBe(true);
    }
  });

  it('a single signer cannot presign a 2-of-3 key', () => {
    expect(runDklsPresign(keys, [2 as PartyId]).aborts.get(2 as PartyId)?.message).toMatch(/1 signers cannot sign a 2-of-3 key/);
  });

  it('survives its storage encoding, and a session of other signers than its own is refused', () => {
    const presigned = runDklsPresign(keys, [1, 3] as PartyId[]).outputs;
    const restored = new Map([...presigned].map(([p, v]) => [p, decodeDklsPresignature(encodeDklsPresignature(v))] as const));
    expect(runDklsSignPresigned(restored, digest).aborts.size).toBe(0);
    const other = runDklsPresign(keys, [1, 2] as PartyId[]).outputs;
    const mixed = new Map<PartyId, DklsPresignature>([
      [1 as PartyId, other.get(1 as PartyId)!],
      [3 as PartyId, runDklsPresign(keys, [1, 3] as PartyId[]).outputs.get(3 as PartyId)!],
    ]);
    const refused = runDklsSignPresigned(mixed, digest).aborts;
    expect(refused.get(1 as PartyId)?.message).toMatch(/not the presignature's/);
  });

  it('signers given different digests stop with inputs_mismatch and blame nobody (a rogue coordinator)', () => {
    const presigned = runDklsPresign(keys, [1, 2] as PartyId[]).outputs;
    const other = createHash('sha256').update('something else').digest();
    const { aborts } = runDklsSignPresigned(presigned, digest, { aggregator: 1 as PartyId, digestOf: (p) => (p === 2 ? other : undefined) });
    expect(aborts.get(1 as PartyId)?.reason).toBe('inputs_mismatch');
    expect(aborts.get(1 as PartyId)?.culprits).toEqual([]);
  });

  it('why single use matters: two signatures from one presignature give away the signer\'s φ (and so its share)', () => {
    // The adversary is the aggregator: it sees u_i and w_i of signer 2 for two digests.
    const presigned = runDklsPresign(keys, [1, 2] as PartyId[]).outputs;
    const copy = new Map([...presigned].map(([p, v]) => [p, decodeDklsPresignature(encodeDklsPresignature(v))] as const));
    const phi2 = presigned.get(2 as PartyId)!.phi;
    const seen: bigint[] = [];
    const spy = (msg: { from: PartyId; payload: Uint8Array }) => {
      if (msg.from === 2) seen.push(Fn.fromBytes(decodeCbor(onlineShareCodec, msg.payload).w));
    };
    const d2 = createHash('sha256').update('second').digest();
    runDklsSignPresigned(presigned, digest, { aggregator: 1 as PartyId, intercept: (m) => (spy(m), [m]) });
    runDklsSignPresigned(copy, d2, { aggregator: 1 as PartyId, intercept: (m) => (spy(m), [m]) });
    expect(seen).toHaveLength(2);
    const e1 = Fn.create(BigInt('0x' + digest.toString('hex')));
    const e2 = Fn.create(BigInt('0x' + d2.toString('hex')));
    // w − w' = (e − e')·φ: the reused presignature leaks φ_2 outright.
    expect(Fn.div((seen[0]! - seen[1]! + N) % N, (e1 - e2 + N) % N)).toBe(phi2);
  });

  it('the node adapter refuses a presignature made for another (derived) key', () => {
    const adapter = schemeOf('ecdsa-secp256k1').adapter;
    const presigned = runDklsPresign(keys, [1, 2] as PartyId[]).outputs;
    const key1 = keys.get(1 as PartyId)!;
    const child = adapter.tweak(key1, Fn.toBytes(12345n));
    if (adapter.presign.kind !== 'interactive') throw new Error('DKLs23 presigns interactively');
    const start = adapter.presign.sign(child, digest, encodeDklsPresignature(presigned.get(1 as PartyId)!), { context: new Uint8Array() });
    expect(() => new Party({ protocol: adapter.presign.signProtocol as string, session: sessionId(systemRng(32)), self: 1 as PartyId, parties: [1, 2] as PartyId[], rng: systemRng }, start).begin()).toThrow(
      /made for another key/,
    );
  });
});

describe.each(['eddsa-ed25519', 'schnorr-bip340'] as const)('FROST nonces committed ahead: %s', (scheme) => {
  const keys = frostKeys(scheme, 2, 3);
  const message = scheme === 'schnorr-bip340' ? createHash('sha256').update('m').digest() : new TextEncoder().encode('a message signed with nonces committed ahead');

  it('every 2-subset signs in one flight, and the signature verifies under the group key', () => {
    for (const signers of subsets([1, 2, 3] as PartyId[], 2)) {
      const { signature, aborts } = runFrostSignPresigned(keys, signers, message);
      expect([...aborts.values()]).toEqual([]);
      expect(frostSignatureVerifies(scheme, signature!.signature, message, signature!.publicKey)).toBe(true);
    }
  });

  it('a single signer cannot sign', () => {
    expect(runFrostSignPresigned(keys, [1 as PartyId], message).aborts.get(1 as PartyId)?.message).toMatch(/needs at least 2 signers/);
  });

  it('signers given different commitment lists stop with inputs_mismatch and blame nobody (a rogue coordinator)', () => {
    const extra = frostCommitAhead(keys.get(2 as PartyId)!, systemRng).commitments;
    const { aborts } = runFrostSignPresigned(keys, [1, 2] as PartyId[], message, { listOf: (self, list) => (self === 1 ? [list[0]!, extra] : list) });
    expect(aborts.get(1 as PartyId)?.reason).toBe('inputs_mismatch');
    expect(aborts.get(1 as PartyId)?.culprits).toEqual([]);
  });

  it('a list without the signer\'s own commitments is refused, and its nonces are gone after one use', () => {
    const key = keys.get(2 as PartyId)!;
    const own = frostCommitAhead(key, systemRng);
    const foreign = frostCommitAhead(key, systemRng).commitments;
    const begin = (list: { hiding: Uint8Array; binding: Uint8Array }[]) =>
      new Party({ protocol: frostPresignedSignProtocol(key), session: sessionId(systemRng(32)), self: 2 as PartyId, parties: [1, 2] as PartyId[], rng: systemRng }, frostSignPresigned(key, message, 1 as PartyId, own, list)).begin();
    const other = frostCommitAhead(keys.get(1 as PartyId)!, systemRng).commitments;
    expect(() => begin([other, foreign])).toThrow(/does not hold this signer's/);
    // Refusing consumed the nonces too: the same object never signs afterwards.
    expect([...own.nonces.hiding, ...own.nonces.binding].every((b) => b === 0)).toBe(true);
    expect(() => begin([other, own.commitments])).toThrow();
  });

  it('signs under a derived child key with nonces made before the child was chosen', () => {
    const tweaked = new Map([...keys].map(([p, k]) => [p, tweakFrostKeyShare(k, Fn.toBytes(777n))] as const));
    const { signature, aborts } = runFrostSignPresigned(tweaked, [2, 3] as PartyId[], message);
    expect([...aborts.values()]).toEqual([]);
    expect(frostSignatureVerifies(scheme, signature!.signature, message, signature!.publicKey)).toBe(true);
  });
});
