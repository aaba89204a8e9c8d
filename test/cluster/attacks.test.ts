/**
 * Node runtimes against an adversary that holds the coordinator's identity (SECURITY.md): it
 * sends correctly signed requests the engine never would — a session id again after a
 * restart, different inputs to different signers, a signer set with a peer already caught
 * cheating — and reads every report. Real engine, real runtimes, in-memory network and vaults.
 */
import { createHash, randomBytes } from 'node:crypto';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../coordinator/service.ts';
import { SIGN_REQUEST_DEFAULTS, repairRequestCodec, reshareRequestCodec, signRequestCodec, type CoordinatorMessage, type Custody, type NodeReport, type SignRequest } from '../../cluster/control.ts';
import { array, bytes, encodeCbor, encodeMessage, party, sessionId, struct, text, uint, type Bytes, type PartyId } from '../../protocol/core/index.ts';
import { FaultController } from '../../simulations/faults.ts';
import { MemoryCluster } from '../../simulations/memory-cluster.ts';

const ctx = (ms = 20_000): RequestContext => ({ deadline: Date.now() + ms, requestId: 'test', emit: () => undefined });
const sha256 = (m: string) => createHash('sha256').update(m).digest();

let cluster: MemoryCluster | undefined;
afterEach(() => cluster?.close());

/** A sign request as the attacker holding the coordinator's key would send it (`sendAsCoordinator` seals it with that key). */
function forgedSign(req: Pick<SignRequest, 'session' | 'keyId' | 'message' | 'signers'> & Partial<SignRequest>): CoordinatorMessage {
  const request = encodeCbor(signRequestCodec, { ...SIGN_REQUEST_DEFAULTS, scheme: 'ecdsa-secp256k1', epoch: 0, ...req }) as Bytes;
  return { type: 'sign', request };
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
    for (const n of [1, 2]) cluster.sendAsCoordinator(n, forgedSign({ session, keyId: key.id, message: digest, signers: [1, 2] as PartyId[] }));
    const done = await reportOf(cluster, 1, session);
    expect(done.type).toBe('sign_done');
    // Both nodes restart (every in-memory record gone); the attacker sends the session again, with another message.
    cluster.reports.length = 0;
    for (const n of [1, 2]) cluster.restartProcess(n);
    for (const n of [1, 2]) cluster.sendAsCoordinator(n, forgedSign({ session, keyId: key.id, message: sha256('second') as Bytes, signers: [1, 2] as PartyId[] }));
    for (const n of [1, 2]) expect(failure(await reportOf(cluster, n, session)).reason).toMatch(/already used/);
    expect(cluster.reports.some((r) => r.report.type === 'sign_done')).toBe(false);
  });

  it('different digests to different signers: both abort with inputs_mismatch, no peer is named, no pair is burned, and the pair still signs', async () => {
    cluster = await MemoryCluster.create({ nodes: 3 });
    await cluster.settle();
    cluster.recordReports = true;
    const key = await cluster.engine.createKey({ scheme: 'ecdsa-secp256k1', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    const session = randomBytes(32) as Bytes;
    cluster.sendAsCoordinator(1, forgedSign({ session, keyId: key.id, message: sha256('pay Alice') as Bytes, signers: [1, 2] as PartyId[] }));
    cluster.sendAsCoordinator(2, forgedSign({ session, keyId: key.id, message: sha256('pay Mallory') as Bytes, signers: [1, 2] as PartyId[] }));
    for (const n of [1, 2]) {
      const f = failure(await reportOf(cluster, n, session));
      expect(f.reason).toMatch(/^inputs_mismatch/);
      expect(f.culprits).toEqual([]);
      expect(await cluster.vaults.get(n)!.burnedPairs(key.id)).toEqual([]);
    }
    const digest = sha256('honest');
    const sig = await cluster.engine.sign(key.id, { message: digest }, ctx());
    expect(secp256k1.verify(Buffer.from(sig.signature, 'hex'), digest, Buffer.from(key.publicKey, 'hex'), { prehash: false })).toBe(true);
  });

  it('FROST: different messages, paths or Taproot tweaks to different signers end in inputs_mismatch at the aggregator, naming no signer', async () => {
    cluster = await MemoryCluster.create({ nodes: 3 });
    await cluster.settle();
    cluster.recordReports = true;
    const ed = await cluster.engine.createKey({ scheme: 'eddsa-ed25519', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    const tr = await cluster.engine.createKey({ scheme: 'schnorr-bip340', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    const digest = sha256('pay Alice') as Bytes;
    const variants: [string, string, Partial<SignRequest>, Partial<SignRequest>][] = [
      ['messages', ed.id, { message: digest }, { message: sha256('pay Mallory') as Bytes }],
      ['paths', ed.id, { derivationPath: 'm/0/1' }, { derivationPath: 'm/0/2' }],
      ['Taproot tweaks', tr.id, { taproot: [] }, { taproot: [new Uint8Array() as Bytes] }],
    ];
    for (const [what, keyId, one, two] of variants) {
      const session = randomBytes(32) as Bytes;
      const scheme = keyId === ed.id ? 'eddsa-ed25519' : 'schnorr-bip340';
      cluster.sendAsCoordinator(1, forgedSign({ session, keyId, scheme, message: digest, signers: [1, 2] as PartyId[], ...one }));
      cluster.sendAsCoordinator(2, forgedSign({ session, keyId, scheme, message: digest, signers: [1, 2] as PartyId[], ...two }));
      // Node 1 aggregates (the lowest signer) and sees node 2's inputs hash in flight 1.
      const f = failure(await reportOf(cluster, 1, session));
      expect(f.reason, what).toMatch(/^inputs_mismatch/);
      expect(f.culprits, what).toEqual([]);
    }
    const sig = await cluster.engine.sign(tr.id, { message: digest, taproot: {} }, ctx());
    expect(schnorr.verify(Buffer.from(sig.signature, 'hex'), digest, Buffer.from(sig.publicKey, 'hex'))).toBe(true);
  });

  it('a node that burned a cheating peer refuses every session with it, whoever asks, also after a restart', async () => {
    const faults = new FaultController(11);
    cluster = await MemoryCluster.create({ nodes: 3, link: faults.hook, engine: { attemptTimeoutMs: 2000 } });
    await cluster.settle();
    const key = await cluster.engine.createKey({ scheme: 'ecdsa-secp256k1', threshold: 2 }, ctx(60_000));
    faults.state.byzantine.set(2, 'tamper-ot');
    const digest = sha256('probe');
    const burnersOf2 = async () => {
      const out: number[] = [];
      for (const n of [1, 3]) if ((await cluster!.vaults.get(n)!.burnedPairs(key.id)).includes(2 as PartyId)) out.push(n);
      return out;
    };
    // Node 2 is caught only in quorums where it sends OT extensions: sign until one did (bounded).
    for (let i = 0; i < 30 && (await burnersOf2()).length === 0; i++) {
      await cluster.engine.sign(key.id, { message: digest }, ctx());
    }
    const burner = (await burnersOf2())[0];
    expect(burner).toBeDefined();
    faults.state.byzantine.delete(2);
    cluster.recordReports = true;
    // The coordinator's identity asks directly for the pair: the node itself refuses, naming the peer.
    for (const restart of [false, true]) {
      if (restart) cluster.restartProcess(burner!);
      const session = randomBytes(32) as Bytes;
      cluster.sendAsCoordinator(burner!, forgedSign({ session, keyId: key.id, message: digest as Bytes, signers: [burner!, 2].sort() as PartyId[] }));
      const f = failure(await reportOf(cluster, burner!, session));
      expect(f.reason).toMatch(/burned/);
      expect(f.culprits).toEqual([2]);
    }
  });

  it('a coordinator with t−1 nodes cannot reshare a 3-of-5 key to those nodes: every honest dealer refuses and deals nothing, whatever custody it claims', async () => {
    cluster = await MemoryCluster.create({ nodes: 5 });
    await cluster.settle();
    cluster.recordReports = true;
    const key = await cluster.engine.createKey({ scheme: 'eddsa-ed25519', threshold: 3 }, ctx(60_000));
    expect(key.custody).toEqual({ minThreshold: 3, minParties: 5, members: [1, 2, 3, 4, 5] });
    // The engine's own path refuses...
    const viaEngine = await cluster.engine.reshareKey(key.id, { nodes: [4, 5], threshold: 2 }, ctx()).catch((e: { code: string }) => e.code);
    expect(viaEngine).toBe('invalid_request');
    // ... and the attacker, holding the coordinator's key and nodes 4 and 5, goes around it. It needs
    // three dealers, so at least one honest one; it tries the true custody and one it made up.
    const honestCustody = key.custody as Custody;
    const madeUp: Custody = { minThreshold: 2, minParties: 2, members: [4, 5] as PartyId[] };
    for (const custody of [honestCustody, madeUp]) {
      for (const dealer of [1, 2, 3]) {
        const session = randomBytes(32) as Bytes;
        const request = encodeCbor(reshareRequestCodec, { session, keyId: key.id, scheme: 'eddsa-ed25519', epoch: 1, dealers: [dealer, 4, 5] as PartyId[], newParties: [4, 5] as PartyId[], newThreshold: 2, custody }) as Bytes;
        cluster.sendAsCoordinator(dealer, { type: 'reshare', request });
        expect(failure(await reportOf(cluster, dealer, session)).reason).toMatch(/^resharing refused/);
      }
    }
    // Every honest share is still there, at the same epoch, and the key still signs 3-of-5.
    for (const n of [1, 2, 3]) expect((await cluster.vaults.get(n)!.inspect(key.id))!.epoch).toBe(0);
    const sig = await cluster.engine.sign(key.id, { message: Buffer.from('still mine') }, ctx());
    expect(sig.signers.length).toBe(3);
  });

  it('a repair never makes a share for a node that holds none: helpers refuse a non-holder as the "lost" node', async () => {
    cluster = await MemoryCluster.create({ nodes: 4 });
    await cluster.settle();
    cluster.recordReports = true;
    // A 2-of-3 key on nodes 1..3; the attacker holds node 3's share and node 4 (no share). A share for
    // node 4 at a new point would be its second share: with node 3's, the key.
    const key = await cluster.engine.createKey({ scheme: 'schnorr-bip340', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    for (const helper of [1, 2]) {
      const session = randomBytes(32) as Bytes;
      const request = encodeCbor(repairRequestCodec, { session, keyId: key.id, scheme: 'schnorr-bip340', epoch: 0, lost: 4 as PartyId, helpers: [1, 2] as PartyId[], custody: key.custody as Custody }) as Bytes;
      cluster.sendAsCoordinator(helper, { type: 'repair', request });
      const f = failure(await reportOf(cluster, helper, session));
      expect(f.reason).toMatch(/^repair refused: node\(s\) 4 hold no share/);
    }
  });

  it('long derivation paths: the API limit is the nodes\' limit, a 128-step path signs, a longer text is refused at once, and a node answers a request it cannot read', async () => {
    cluster = await MemoryCluster.create({ nodes: 3 });
    await cluster.settle();
    cluster.recordReports = true;
    const key = await cluster.engine.createKey({ scheme: 'ecdsa-secp256k1', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    const digest = sha256('deep');
    // 128 steps used to pass the API and be refused, silently, by every node (504 after the retries).
    const deep = 'm/' + Array.from({ length: 128 }, (_, i) => String(i)).join('/');
    const sig = await cluster.engine.sign(key.id, { message: digest, derivationPath: deep }, ctx());
    expect(secp256k1.verify(Buffer.from(sig.signature, 'hex'), digest, Buffer.from(sig.publicKey, 'hex'), { prehash: false })).toBe(true);
    const tooDeep = 'm/' + Array.from({ length: 256 }, () => '0').join('/');
    const refused = await cluster.engine.sign(key.id, { message: digest, derivationPath: tooDeep }, ctx()).catch((e: { code: string }) => e.code);
    expect(refused).toBe('invalid_request');
    // A signed request a node cannot decode (a path over the limit) is answered, not dropped.
    const session = randomBytes(32) as Bytes;
    const over = encodeCbor(signRequestCodecLoose, { ...SIGN_REQUEST_DEFAULTS, session, keyId: key.id, scheme: 'ecdsa-secp256k1', message: digest as Bytes, derivationPath: 'm' + '/1'.repeat(2000), signers: [1, 2] as PartyId[], epoch: 0 }) as Bytes;
    cluster.sendAsCoordinator(1, { type: 'sign', request: over });
    expect(failure(await reportOf(cluster, 1, session)).reason).toMatch(/^sign request refused/);
  });

  it('a client deadline of 1 ms counts against no node', async () => {
    cluster = await MemoryCluster.create({ nodes: 3 });
    await cluster.settle();
    const key = await cluster.engine.createKey({ scheme: 'eddsa-ed25519', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    // Every message takes 100 ms, so each attempt is cut by the client's deadline, never by the nodes.
    cluster.setLink(() => [100]);
    const events: string[] = [];
    for (let i = 0; i < 5; i++) {
      const code = await cluster.engine
        .sign(key.id, { message: Buffer.from(`hurry ${i}`) }, { deadline: Date.now() + 30, requestId: 'hurry', emit: (e) => events.push(e.type) })
        .catch((e: { code: string }) => e.code);
      expect(code).toBe('deadline_exceeded');
    }
    expect(events.filter((e) => e === 'started').length).toBeGreaterThanOrEqual(5); // an attempt really ran each time (a last one may start with under 1 ms left)
    for (const n of [1, 2, 3]) expect(cluster.engine.failureWeight(n)).toBe(0);
  });

  it('a hostile member flooding messages for sessions that never start is held to a byte budget; honest early messages still get through', async () => {
    cluster = await MemoryCluster.create({ nodes: 3 });
    await cluster.settle();
    const victim = cluster.runtimes.get(1)!;
    // Node 3 sends 64 KiB messages for thousands of sessions node 1 was never asked to run.
    const junk = new Uint8Array(64 * 1024);
    for (let i = 0; i < 2000; i++) {
      const session = randomBytes(32) as Bytes;
      const message = encodeMessage({ protocol: 'frost-sign-coord/eddsa-ed25519/v2', session: sessionId(session), round: 1, from: 3 as PartyId, kind: 'broadcast', payload: junk });
      await victim.handle({ role: 'node', id: 3 as PartyId }, { type: 'protocol', session, keyId: 'k', round: 1, message: message as Bytes });
    }
    expect(victim.earlyBytes(3 as PartyId)).toBeLessThanOrEqual(8 * 1024 * 1024);
    // The flood took nothing from node 2: the cluster signs with it.
    const key = await cluster.engine.createKey({ scheme: 'eddsa-ed25519', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    const sig = await cluster.engine.sign(key.id, { message: Buffer.from('after the flood') }, ctx());
    expect(sig.signers.length).toBe(2);
  });

  it('an error answer carries the failure\'s code, never a node\'s reason text (that goes to the coordinator log)', async () => {
    cluster = await MemoryCluster.create({ nodes: 3 });
    await cluster.settle();
    const key = await cluster.engine.createKey({ scheme: 'eddsa-ed25519', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    // Node 3 still holds its share, so it refuses to be "repaired"; its reason names the key and what to do.
    const message = await cluster.engine.repairKey(key.id, 3, ctx()).then(() => 'repaired', (e: Error) => e.message);
    expect(message).toMatch(/^repair aborted by node 3: refused \(details in the coordinator log, request test\)$/);
    expect(message).not.toContain(key.id);
  });
});

/** The sign request's shape with no length limits: what an attacker can sign and send. */
const signRequestCodecLoose = struct<SignRequest>({
  session: bytes(32),
  keyId: text(128),
  scheme: text(32) as never,
  message: bytes({ min: 0, max: 1 << 20 }),
  hash: text(16) as never,
  derivationPath: text(1 << 20),
  taproot: array(bytes({ min: 0, max: 32 }), { min: 0, max: 1 }),
  signers: array(party, { min: 1, max: 64 }),
  epoch: uint(2 ** 32),
  transaction: text(16) as never,
  input: uint(2 ** 32),
  expectedDigest: bytes({ min: 0, max: 64 }),
  requestId: text(1 << 10),
  deadline: uint(Number.MAX_SAFE_INTEGER),
  approvals: array(struct({ approver: text(1 << 10), signature: bytes({ min: 0, max: 128 }) }), { min: 0, max: 1024 }),
  policyHash: bytes({ min: 0, max: 64 }),
  presignature: array(struct({ session: bytes({ min: 0, max: 64 }), index: uint(2 ** 32), commitments: array(struct({ hiding: bytes({ min: 0, max: 64 }), binding: bytes({ min: 0, max: 64 }) }), { min: 0, max: 1024 }) }), { min: 0, max: 16 }),
});