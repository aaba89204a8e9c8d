/**
 * Protocol worker threads (node/session/worker-pool.ts): signing and presigning sessions run on
 * workers and give the same signatures; the share bytes move to the worker and leave nothing on
 * the main thread; a pairwise OT retirement made on one thread is in force on every other at once,
 * so an adversary probing one key's pairs through sessions spread over workers gets no more than
 * on one thread.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../coordinator/service.ts';
import type { PartyId, SessionId } from '../../protocol/core/ids.ts';
import { schemeOf, type Scheme } from '../../protocol/schemes/index.ts';
import { dklsKeys } from '../../protocol/testing/dkls23.ts';
import { frostKeys } from '../../protocol/testing/frost.ts';
import { RetirementBoard } from '../../node/session/retirement-board.ts';
import { ProtocolWorkers } from '../../node/session/worker-pool.ts';
import { signOnWorkers } from '../../simulations/worker-sessions.ts';
import { FaultController } from '../../simulations/faults.ts';
import { MemoryCluster } from '../../simulations/memory-cluster.ts';
import { until } from '../support/until.ts';

const ctx = (ms = 30_000): RequestContext => ({ deadline: Date.now() + ms, requestId: 'test', emit: () => undefined });
const messageFor = (scheme: Scheme, text: string) => (scheme === 'eddsa-ed25519' ? Buffer.from(text) : createHash('sha256').update(text).digest());

let cluster: MemoryCluster | undefined;
const pools: ProtocolWorkers[] = [];
afterEach(async () => {
  cluster?.close();
  cluster = undefined;
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('protocol workers in a cluster', () => {
  it('every scheme signs on workers: root, derived child and Taproot keys, in full and from presignatures; the signatures verify', async () => {
    const c = await MemoryCluster.create({ nodes: 3, protocolWorkers: 2, engine: { presign: { size: 2, lowWater: 2 } } });
    cluster = c;
    await c.settle();
    c.recordAudits = true;
    for (const scheme of ['ecdsa-secp256k1', 'eddsa-ed25519', 'schnorr-bip340'] as const) {
      const key = await c.engine.createKey({ scheme, nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
      const requests = [{}, { derivationPath: 'm/1/2' }, ...(scheme === 'schnorr-bip340' ? [{ taproot: {} }] : []), {}, {}];
      for (const [i, extra] of requests.entries()) {
        const message = messageFor(scheme, `request ${i}`);
        const res = await c.engine.sign(key.id, { message, ...extra }, ctx());
        expect(schemeOf(scheme).verify(Buffer.from(res.publicKey, 'hex'), message, Buffer.from(res.signature, 'hex'), res.recoveryId), `${scheme} request ${i}`).toBe(true);
      }
    }
    // Sessions ran on the workers (DKLs23 presigning and signing, FROST signing), and some signatures came from pools.
    const onWorkers = [1, 2, 3].map((n) => c.runtimes.get(n as PartyId)!.workerSessions);
    expect(onWorkers.reduce((a, b) => a + b)).toBeGreaterThan(20);
    expect(c.audits.some((a) => a.entry.event === 'sign' && a.entry.outcome === 'completed' && a.entry.presignature)).toBe(true);
  });

  it('ECDSA: presignatures made two to a session on workers each sign once; the signatures verify', async () => {
    // A pool of 8 is refilled two to a session (a quarter of the pool, at most four).
    const c = await MemoryCluster.create({ nodes: 3, protocolWorkers: 2, engine: { presign: { size: 8, lowWater: 8 } } });
    cluster = c;
    await c.settle();
    c.recordAudits = true;
    const key = await c.engine.createKey({ scheme: 'ecdsa-secp256k1', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    await until('a full pool of 8', () => c.engine.presignPoolSize({ keyId: key.id, derivationPath: '' }) === 8, { within: 30_000 });
    for (let i = 0; i < 4; i++) {
      const message = messageFor('ecdsa-secp256k1', `pooled ${i}`);
      const res = await c.engine.sign(key.id, { message }, ctx());
      expect(schemeOf('ecdsa-secp256k1').verify(Buffer.from(res.publicKey, 'hex'), message, Buffer.from(res.signature, 'hex'), res.recoveryId)).toBe(true);
    }
    const used = c.audits.filter((a) => a.entry.event === 'sign' && a.entry.outcome === 'completed' && a.entry.presignature).map((a) => a.entry.presignature!);
    expect(used.some((id) => id.endsWith('.1'))).toBe(true);
    expect([1, 2, 3].map((n) => c.runtimes.get(n as PartyId)!.workerSessions).reduce((a, b) => a + b)).toBeGreaterThan(0);
  });

  it('ECDSA: a node tampering with its OT-extension messages is named and its pair burned, with every session on workers; requests still succeed', async () => {
    const faults = new FaultController(7);
    const c = await MemoryCluster.create({ nodes: 4, protocolWorkers: 2, link: faults.hook, engine: { attemptTimeoutMs: 2000 } });
    cluster = c;
    await c.settle();
    const key = await c.engine.createKey({ scheme: 'ecdsa-secp256k1', threshold: 2 }, ctx());
    faults.state.byzantine.set(2, 'tamper-ot');
    const digest = messageFor('ecdsa-secp256k1', 'probe');
    const burnedBy = async () => {
      const out: number[] = [];
      for (const n of [1, 3, 4]) if ((await c.vaults.get(n as PartyId)!.burnedPairs(key.id)).includes(2 as PartyId)) out.push(n);
      return out;
    };
    // Sign until the quorum choice has put node 2 beside an honest node (which burns the pair);
    // every answer is a valid signature without it.
    for (let i = 0; (await burnedBy()).length === 0; i++) {
      expect(i, 'node 2 never met an honest signer').toBeLessThan(40);
      const sig = await c.engine.sign(key.id, { message: digest }, ctx());
      expect(schemeOf('ecdsa-secp256k1').verify(Buffer.from(key.publicKey, 'hex'), digest, Buffer.from(sig.signature, 'hex'), sig.recoveryId)).toBe(true);
      expect(sig.signers).not.toContain(2);
    }
    expect([1, 3, 4].map((n) => c.runtimes.get(n as PartyId)!.workerSessions).reduce((a, b) => a + b)).toBeGreaterThan(0);
  });
  it('ECDSA: a node whose every retirement slot is held refuses the session at once (local_failure), and the request signs without it', async () => {
    const c = await MemoryCluster.create({ nodes: 3, protocolWorkers: 1 });
    cluster = c;
    await c.settle();
    c.recordReports = true;
    const key = await c.engine.createKey({ scheme: 'ecdsa-secp256k1', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    const board = (c.runtimes.get(1 as PartyId) as unknown as { workers: ProtocolWorkers }).workers.board;
    for (let i = 0; board.hold(`other-${i}`, 0, []) !== undefined; i++);
    const digest = messageFor('ecdsa-secp256k1', 'no slot');
    for (let i = 0; !c.reports.some((r) => r.from === 1 && r.report.type === 'failed'); i++) {
      expect(i, 'node 1 never chosen').toBeLessThan(40);
      const sig = await c.engine.sign(key.id, { message: digest }, ctx());
      expect(schemeOf('ecdsa-secp256k1').verify(Buffer.from(key.publicKey, 'hex'), digest, Buffer.from(sig.signature, 'hex'), sig.recoveryId)).toBe(true);
    }
    expect(c.reports.find((r) => r.from === 1 && r.report.type === 'failed')!.report).toMatchObject({ code: 'local_failure', reason: expect.stringMatching(/retirement slot/) });
  });
});

describe('ProtocolWorkers', () => {
  it.each([
    ['ecdsa-secp256k1', 1],
    ['ecdsa-secp256k1', 2],
    ['eddsa-ed25519', 1],
    ['eddsa-ed25519', 2],
  ] as const)('%s on %i worker(s): both parties of one session sign on the pool; the share bytes handed over are zeroised on the main thread', async (scheme, workers) => {
    const pool = new ProtocolWorkers(workers, () => undefined);
    pools.push(pool);
    const adapter = schemeOf(scheme).adapter;
    const keys: Map<PartyId, unknown> = scheme === 'ecdsa-secp256k1' ? dklsKeys(2, 3) : frostKeys('eddsa-ed25519', 2, 3);
    const encoded = new Map([1, 2].map((p) => [p as PartyId, adapter.encode(keys.get(p as PartyId)!)] as const));
    const views = [...encoded.values()];
    const message = messageFor(scheme, 'on workers');
    const outputs = await signOnWorkers(pool, scheme, encoded, message, 'ab'.repeat(32) as SessionId);
    for (const v of views) expect(v.every((b) => b === 0)).toBe(true);
    const signature = outputs.find((o) => o) as { signature: Uint8Array; recoveryId?: number };
    expect(schemeOf(scheme).verify(schemeOf(scheme).userKey(adapter.groupKey(keys.get(1 as PartyId)!)), message, signature.signature, signature.recoveryId)).toBe(true);
    expect(pool.started).toBe(2);
    await until('both sessions to close on the workers', () => pool.load.every((n) => n === 0));
  });
});

describe('ProtocolWorkers: failures', () => {
  it('a session whose share does not decode fails with the reason, its slot is released, and the worker goes on serving', async () => {
    const pool = new ProtocolWorkers(1, () => undefined);
    pools.push(pool);
    const plan = { childKey: new Uint8Array(), publicKey: new Uint8Array() };
    const garbage = new Uint8Array(64).fill(7);
    const session = pool.start({ id: 'cd'.repeat(32) as SessionId, keyId: 'k', epoch: 0, self: 1 as PartyId, parties: [1, 2] as PartyId[], scheme: 'ecdsa-secp256k1', share: garbage, plan, job: { kind: 'sign', message: new Uint8Array(32) }, context: new Uint8Array(4), retired: [] })!;
    const failure = await new Promise<string>((resolve) => session.onFailure(resolve));
    expect(failure.length).toBeGreaterThan(0);
    expect(garbage.every((b) => b === 0)).toBe(true);
    await until('the session to close on the worker', () => pool.load[0] === 0);
    const adapter = schemeOf('eddsa-ed25519').adapter;
    const keys = frostKeys('eddsa-ed25519', 2, 3);
    const message = messageFor('eddsa-ed25519', 'after a failure');
    const outputs = await signOnWorkers(pool, 'eddsa-ed25519', new Map([1, 2].map((p) => [p as PartyId, adapter.encode(keys.get(p as PartyId)!)] as const)), message, 'ef'.repeat(32) as SessionId);
    const signature = outputs.find((o) => o) as { signature: Uint8Array };
    expect(schemeOf('eddsa-ed25519').verify(schemeOf('eddsa-ed25519').userKey(adapter.groupKey(keys.get(1 as PartyId)!)), message, signature.signature)).toBe(true);
  });
});

describe('ProtocolWorkers: a worker that dies', () => {
  it('fails its running sessions (their shares die with it), releases their slots, and is replaced for the next sessions', async () => {
    const pool = new ProtocolWorkers(1, () => undefined);
    pools.push(pool);
    const adapter = schemeOf('ecdsa-secp256k1').adapter;
    const keys = dklsKeys(2, 3);
    const plan = { childKey: new Uint8Array(), publicKey: new Uint8Array() };
    // Party 1 alone: its session waits for party 2's first message for ever.
    const waiting = pool.start({ id: '01'.repeat(32) as SessionId, keyId: 'k', epoch: 0, self: 1 as PartyId, parties: [1, 2] as PartyId[], scheme: 'ecdsa-secp256k1', share: adapter.encode(keys.get(1 as PartyId)!), plan, job: { kind: 'sign', message: new Uint8Array(32) }, context: new Uint8Array(4), retired: [] })!;
    const failure = new Promise<string>((resolve) => waiting.onFailure(resolve));
    await new Promise<void>((resolve) => waiting.onStep(() => resolve()));
    expect(pool.load).toEqual([1]);
    // The pool's own thread, killed from outside (an out-of-memory crash looks the same to the pool).
    const [thread] = (pool as unknown as { threads: { worker: Worker }[] }).threads;
    await thread!.worker.terminate();
    expect(await failure).toBe('protocol worker exited');
    expect(pool.load).toEqual([0]);
    const message = messageFor('ecdsa-secp256k1', 'after the crash');
    const outputs = await signOnWorkers(pool, 'ecdsa-secp256k1', new Map([1, 2].map((p) => [p as PartyId, adapter.encode(keys.get(p as PartyId)!)] as const)), message, '02'.repeat(32) as SessionId);
    const signature = outputs.find((o) => o) as { signature: Uint8Array; recoveryId: number };
    expect(schemeOf('ecdsa-secp256k1').verify(schemeOf('ecdsa-secp256k1').userKey(adapter.groupKey(keys.get(1 as PartyId)!)), message, signature.signature, signature.recoveryId)).toBe(true);
  });
});

describe('RetirementBoard', () => {
  const ask = async (w: Worker, op: 'usable' | 'retire', slot: number, peer: number): Promise<boolean> => {
    w.postMessage({ op, slot, peer });
    const [answer] = (await once(w, 'message')) as [boolean];
    return answer;
  };

  it('a retirement made on one thread is in force on every other thread at once; a key\'s slot starts with what the main thread knows', async () => {
    const board = new RetirementBoard();
    const threads = [0, 1].map(() => new Worker(new URL('../support/board-worker.ts', import.meta.url), { workerData: { board: board.buffer } }));
    try {
      const slot = board.hold('k', 3, [4 as PartyId])!;
      expect(await ask(threads[0]!, 'usable', slot, 4)).toBe(false);
      expect(await ask(threads[0]!, 'usable', slot, 2)).toBe(true);
      expect(await ask(threads[0]!, 'retire', slot, 2)).toBe(true);
      // No message reached the other thread or the main thread: the memory did.
      expect(await ask(threads[1]!, 'usable', slot, 2)).toBe(false);
      expect(board.usable(slot, 2 as PartyId)).toBe(false);
      expect(await ask(threads[1]!, 'retire', slot, 2)).toBe(false);
      // The main thread's own retirements (pair-retirement.ts mirrors them) reach the workers too.
      board.retireKey('k', 3, 5 as PartyId);
      expect(await ask(threads[1]!, 'usable', slot, 5)).toBe(false);
      // Another epoch of the key is another slot, with fresh pairs.
      const next = board.hold('k', 4, [])!;
      expect(await ask(threads[0]!, 'usable', next, 2)).toBe(true);
    } finally {
      await Promise.all(threads.map((t) => t.terminate()));
    }
  });

  it('one session\'s checks against a key\'s pairs are one step across threads: a check waiting on another thread\'s sees the retirement that one made', async () => {
    const board = new RetirementBoard();
    const [a, b] = [0, 1].map(() => new Worker(new URL('../support/board-worker.ts', import.meta.url), { workerData: { board: board.buffer } })) as [Worker, Worker];
    try {
      const slot = board.hold('k', 0, [])!;
      const go = new SharedArrayBuffer(4);
      const next = (w: Worker) => once(w, 'message').then(([m]) => m as unknown);
      const aLocked = next(a);
      a.postMessage({ op: 'hold-then-retire', slot, peer: 2, go });
      expect(await aLocked).toBe('locked');
      const aDone = next(a);
      const bEntering = next(b);
      b.postMessage({ op: 'exclusive-usable', slot, peer: 2 });
      expect(await bEntering).toBe('entering');
      const bAnswer = next(b);
      // A's checks end with a retirement; B, checking the same key, had to wait for them.
      Atomics.store(new Int32Array(go), 0, 1);
      Atomics.notify(new Int32Array(go), 0);
      expect(await aDone).toBe(true);
      expect(await bAnswer).toBe(false);
    } finally {
      await Promise.all([a, b].map((t) => t.terminate()));
    }
  });

  it('a thread that dies holding a key\'s lock does not leave the key locked once no session holds its slot', async () => {
    const board = new RetirementBoard();
    const spawn = () => new Worker(new URL('../support/board-worker.ts', import.meta.url), { workerData: { board: board.buffer } });
    const next = (w: Worker) => once(w, 'message').then(([m]) => m as unknown);
    const dying = spawn();
    const survivor = spawn();
    try {
      const slot = board.hold('k', 0, [])!;
      const locked = next(dying);
      dying.postMessage({ op: 'hold-then-retire', slot, peer: 2, go: new SharedArrayBuffer(4) });
      expect(await locked).toBe('locked');
      await dying.terminate();
      // Its session ends with it (the pool reports the worker's sessions closed); the key's next session checks at once.
      board.release(slot);
      expect(board.hold('k', 0, [])).toBe(slot);
      const answer = next(survivor);
      survivor.postMessage({ op: 'exclusive-usable', slot, peer: 3 });
      expect(await answer).toBe('entering');
      expect(await next(survivor)).toBe(true);
    } finally {
      await Promise.all([dying, survivor].map((t) => t.terminate()));
    }
  });

  it('never reclaims a slot a running session holds: with every slot held, a new key gets none (its session is refused)', () => {
    const board = new RetirementBoard();
    const held: number[] = [];
    for (let i = 0; ; i++) {
      const slot = board.hold(`k${i}`, 0, [7 as PartyId]);
      if (slot === undefined) break;
      held.push(slot);
    }
    expect(new Set(held).size).toBe(held.length);
    expect(held.every((s) => !board.usable(s, 7 as PartyId))).toBe(true);
    // Released slots are reused, cleared of the old key's retirements.
    board.release(held[0]!);
    const reused = board.hold('fresh', 0, [])!;
    expect(reused).toBe(held[0]);
    expect(board.usable(reused, 7 as PartyId)).toBe(true);
  });
});

