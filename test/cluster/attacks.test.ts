/**
 * Node runtimes against an adversary that holds the coordinator's identity (SECURITY.md): it
 * sends correctly signed requests the engine never would — a session id again after a
 * restart, different inputs to different signers, a signer set with a peer already caught
 * cheating — and reads every report. Real engine, real runtimes, in-memory network and vaults.
 */
import { createHash, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../coordinator/service.ts';
import { requestSigningInput, signRequestCodec, type CoordinatorMessage, type NodeReport, type SignRequest } from '../../node/control.ts';
import { encodeCbor, type Bytes, type PartyId } from '../../protocol/core/index.ts';
import { FaultController } from '../../simulations/faults.ts';
import { MemoryCluster } from '../../simulations/memory-cluster.ts';

const ctx = (ms = 20_000): RequestContext => ({ deadline: Date.now() + ms, requestId: 'test', emit: () => undefined });
const sha256 = (m: string) => createHash('sha256').update(m).digest();

let cluster: MemoryCluster | undefined;
afterEach(() => cluster?.close());

/** A sign request signed with the coordinator's key, as the attacker holding it would send. */
function forgedSign(c: MemoryCluster, req: Omit<SignRequest, 'scheme' | 'derivationPath' | 'epoch'> & Partial<SignRequest>): CoordinatorMessage {
  const request = encodeCbor(signRequestCodec, { scheme: 'ecdsa-secp256k1', derivationPath: '', epoch: 0, ...req }) as Bytes;
  return { type: 'sign', request, signature: c.signAsCoordinator(requestSigningInput('sign', request)) as Bytes };
}

/** Waits until `node` has reported on `session`, and returns that report. */
async function reportOf(c: MemoryCluster, node: number, session: Uint8Array): Promise<NodeReport> {
  const hex = Buffer.from(session).toString('hex');
  for (let i = 0; i < 2000; i++) {
    const found = c.reports.find((r) => r.from === node && 'session' in r.report && Buffer.from(r.report.session).toString('hex') === hex);
    if (found) return found.report;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`node ${node} never reported on session ${hex}`);
}

const failure = (r: NodeReport) => (r.type === 'failed' ? { reason: r.reason, culprits: r.culprits } : { reason: r.type, culprits: [] });

describe('node runtimes against a compromised coordinator', () => {
  it('a session id is refused for good: after a process restart, and with another message (no second share)', async () => {
    cluster = await MemoryCluster.create({ nodes: 3 });
    await cluster.settle();
    cluster.recordReports = true;
    const key = await cluster.engine.createKey({ scheme: 'ecdsa-secp256k1', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    const session = randomBytes(32) as Bytes;
    const digest = sha256('first') as Bytes;
    for (const n of [1, 2]) cluster.sendAsCoordinator(n, forgedSign(cluster, { session, keyId: key.id, message: digest, signers: [1, 2] as PartyId[] }));
    const done = await reportOf(cluster, 1, session);
    expect(done.type).toBe('sign_done');
    // Both nodes restart (every in-memory record gone); the attacker sends the session again, with another message.
    cluster.reports.length = 0;
    for (const n of [1, 2]) cluster.restartProcess(n);
    for (const n of [1, 2]) cluster.sendAsCoordinator(n, forgedSign(cluster, { session, keyId: key.id, message: sha256('second') as Bytes, signers: [1, 2] as PartyId[] }));
    for (const n of [1, 2]) expect(failure(await reportOf(cluster, n, session)).reason).toMatch(/already used/);
    expect(cluster.reports.some((r) => r.report.type === 'sign_done')).toBe(false);
  });

  it('different digests to different signers: both abort with inputs_mismatch, no peer is named, no pair is burned, and the pair still signs', async () => {
    cluster = await MemoryCluster.create({ nodes: 3 });
    await cluster.settle();
    cluster.recordReports = true;
    const key = await cluster.engine.createKey({ scheme: 'ecdsa-secp256k1', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    const session = randomBytes(32) as Bytes;
    cluster.sendAsCoordinator(1, forgedSign(cluster, { session, keyId: key.id, message: sha256('pay Alice') as Bytes, signers: [1, 2] as PartyId[] }));
    cluster.sendAsCoordinator(2, forgedSign(cluster, { session, keyId: key.id, message: sha256('pay Mallory') as Bytes, signers: [1, 2] as PartyId[] }));
    for (const n of [1, 2]) {
      const f = failure(await reportOf(cluster, n, session));
      expect(f.reason).toMatch(/^inputs_mismatch/);
      expect(f.culprits).toEqual([]);
      expect(cluster.vaults.get(n)!.burned.get(key.id)?.size ?? 0).toBe(0);
    }
    const digest = sha256('honest');
    const sig = await cluster.engine.sign(key.id, { message: digest }, ctx());
    expect(secp256k1.verify(Buffer.from(sig.signature, 'hex'), digest, Buffer.from(key.publicKey, 'hex'), { prehash: false })).toBe(true);
  });

  it('a node that burned a cheating peer refuses every session with it, whoever asks, also after a restart', async () => {
    const faults = new FaultController(11);
    cluster = await MemoryCluster.create({ nodes: 3, link: faults.hook, engine: { attemptTimeoutMs: 2000 } });
    await cluster.settle();
    const key = await cluster.engine.createKey({ scheme: 'ecdsa-secp256k1', threshold: 2 }, ctx(60_000));
    faults.state.byzantine.set(2, 'tamper-ot');
    const digest = sha256('probe');
    for (let i = 0; i < 4 && ![1, 3].some((n) => cluster!.vaults.get(n)!.burned.get(key.id)?.has(2 as PartyId)); i++) {
      await cluster.engine.sign(key.id, { message: digest }, ctx());
    }
    const burner = [1, 3].find((n) => cluster!.vaults.get(n)!.burned.get(key.id)?.has(2 as PartyId));
    expect(burner).toBeDefined();
    faults.state.byzantine.delete(2);
    cluster.recordReports = true;
    // The coordinator's identity asks directly for the pair: the node itself refuses, naming the peer.
    for (const restart of [false, true]) {
      if (restart) cluster.restartProcess(burner!);
      const session = randomBytes(32) as Bytes;
      cluster.sendAsCoordinator(burner!, forgedSign(cluster, { session, keyId: key.id, message: digest as Bytes, signers: [burner!, 2].sort() as PartyId[] }));
      const f = failure(await reportOf(cluster, burner!, session));
      expect(f.reason).toMatch(/burned/);
      expect(f.culprits).toEqual([2]);
    }
  });
});
