/**
 * Several DKLs23 presignatures in one session (protocol/core/lockstep.ts over `dklsPresign`), as
 * a node makes them: each one signs on its own, t − 1 signers never presign, and an attacker in
 * any one instance ends the whole session.
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { array, bytes, decodeCbor, encodeCbor, type PartyId, type ProtocolMessage } from '../../protocol/core/index.ts';
import { DKLS_PRESIGNATURES_PER_SESSION } from '../../protocol/dkls23/sign.ts';
import { dklsKeys, runDklsPresignLockstep, runDklsSignPresigned } from '../../protocol/testing/dkls23.ts';
import { partyRange } from '../../protocol/testing/frost.ts';
import { subsets } from '../support/verifiers.ts';

const keys23 = dklsKeys(2, 3);
const digestOf = (text: string) => createHash('sha256').update(text).digest();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The instances' payloads of a lockstep message, and the message with them replaced. */
const instancesCodec = array(bytes({ min: 1, max: 1 << 24 }), { min: 1, max: 64 });
const instancesOf = (msg: ProtocolMessage) => decodeCbor(instancesCodec, msg.payload);
const withInstances = (msg: ProtocolMessage, parts: Uint8Array[]): ProtocolMessage => ({ ...msg, payload: encodeCbor(instancesCodec, parts as never) });
/** Field `field` of one instance's DKLs23 payload (an array of byte strings), changed. */
function tamperInstance(msg: ProtocolMessage, instance: number, field: number): ProtocolMessage {
  const parts = instancesOf(msg);
  const codec = array(bytes({ min: 0, max: 1 << 20 }), { min: 1, max: 8 });
  const fields = decodeCbor(codec, parts[instance]!);
  const changed = Uint8Array.from(fields[field]!);
  changed[changed.length >> 1]! ^= 1;
  fields[field] = changed as never;
  parts[instance] = encodeCbor(codec, fields) as never;
  return withInstances(msg, parts);
}

describe('DKLs23 presignatures made several to a session', () => {
  it('every 2-subset of a 2-of-3 key makes four, each signs its own digest in one flight, and all four differ', () => {
    for (const signers of subsets(partyRange(3), 2)) {
      const { outputs, aborts } = runDklsPresignLockstep(keys23, signers, DKLS_PRESIGNATURES_PER_SESSION);
      expect([...aborts.values()]).toEqual([]);
      const groupKey = keys23.get(signers[0]!)!.core.groupKey;
      const instances = new Set<string>();
      for (let i = 0; i < DKLS_PRESIGNATURES_PER_SESSION; i++) {
        const parts = new Map(signers.map((p) => [p, outputs.get(p)![i]!] as const));
        // Every signer's part of one presignature agrees on R and on the transcript it is bound to.
        expect(new Set([...parts.values()].map((p) => hex(p.instance) + hex(p.binding))).size).toBe(1);
        instances.add(hex(parts.get(signers[0]!)!.binding));
        instances.add(hex(parts.get(signers[0]!)!.instance));
        const digest = digestOf(`presignature ${i} of ${signers.join('+')}`);
        const signed = runDklsSignPresigned(parts, digest);
        expect([...signed.aborts.values()]).toEqual([]);
        const signature = [...signed.outputs.values()].find((o) => o)!;
        expect(secp256k1.verify(signature.signature, digest, groupKey, { prehash: false, lowS: true })).toBe(true);
      }
      // Four bindings and four R: no two instances share a transcript or an instance key.
      expect(instances.size).toBe(2 * DKLS_PRESIGNATURES_PER_SESSION);
    }
  });

  it('any three of a 3-of-5 key make three that sign; two of them make none', () => {
    const keys35 = dklsKeys(3, 5);
    const signers = [1, 3, 5] as PartyId[];
    const { outputs, aborts } = runDklsPresignLockstep(keys35, signers, 3);
    expect([...aborts.values()]).toEqual([]);
    for (let i = 0; i < 3; i++) {
      const digest = digestOf(`3-of-5 presignature ${i}`);
      const signed = runDklsSignPresigned(new Map(signers.map((p) => [p, outputs.get(p)![i]!] as const)), digest);
      const signature = [...signed.outputs.values()].find((o) => o)!;
      expect(secp256k1.verify(signature.signature, digest, keys35.get(1 as PartyId)!.core.groupKey, { prehash: false, lowS: true })).toBe(true);
    }
    const two = runDklsPresignLockstep(keys35, [2, 4] as PartyId[], 3);
    expect(two.outputs.size).toBe(0);
    for (const a of two.aborts.values()) expect(a.message).toMatch(/cannot sign/);
  });

  it('a co-signer that tampers with one instance\'s multiplication ends the whole session, blamed, and nobody keeps a presignature', () => {
    const signers = partyRange(3);
    for (const instance of [0, 2]) {
      const { outputs, aborts } = runDklsPresignLockstep(keys23, signers, 3, {
        intercept: (msg, to) => (msg.round === 2 && msg.kind === 'direct' && msg.from === 2 && to !== 2 ? [tamperInstance(msg, instance, 0)] : [msg]),
      });
      expect([...outputs.keys()].filter((p) => p !== 2)).toEqual([]);
      const blamed = [...aborts.values()].filter((a) => a.culprits.length > 0);
      expect(blamed.length).toBeGreaterThan(0);
      for (const a of blamed) expect([a.reason, a.culprits]).toEqual(['consistency_check_failed', [2]]);
    }
  });

  it('a co-signer that swaps its payloads between instances, or sends too few, gets nobody to finish and no honest signer blamed', () => {
    const signers = partyRange(2);
    const swap = (msg: ProtocolMessage) => {
      const parts = instancesOf(msg);
      return withInstances(msg, [parts[1]!, parts[0]!, ...parts.slice(2)]);
    };
    const drop = (msg: ProtocolMessage) => withInstances(msg, instancesOf(msg).slice(1));
    for (const [change, round] of [[swap, 1], [swap, 2], [drop, 1]] as const) {
      const { outputs, aborts } = runDklsPresignLockstep(keys23, signers, 3, {
        intercept: (msg, to) => (msg.round === round && msg.from === 2 && to === 1 ? [change(msg)] : [msg]),
      });
      expect(outputs.has(1 as PartyId)).toBe(false);
      const abort = aborts.get(1 as PartyId)!;
      expect(abort).toBeDefined();
      // Party 1 is honest: whatever it says, it never names itself.
      expect(abort.culprits).not.toContain(1);
    }
  });
});
