/**
 * The node's presignature store (node/store/presignatures.ts) on the share ledger: single use,
 * bound to key, epoch and signer set, erased with every epoch change, bounded per key, and gone
 * for good across a kill -9 — real LevelDB, real SIGKILL, at the moment between the durable
 * mark and the send, and right after a presignature was stored.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalProtector } from '../../cluster/providers/local.ts';
import { MemoryBackend } from '../../node/store/backend.ts';
import { LevelBackend } from '../../node/store/level-backend.ts';
import { presignatureId, type Presignature } from '../../node/store/presignatures.ts';
import { ShareSealer } from '../../node/store/sealer.ts';
import { ShareStore } from '../../node/store/share-store.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import { storedKey } from '../support/stored-key.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'presig-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const sealer = async () => new ShareSealer(await createLocalProtector({ type: 'local', keyFile: join(dir, 'kek') }));
const made = (index: number, epoch = 0, keyId = 'k'): Presignature => ({
  keyId,
  epoch,
  id: presignatureId(new Uint8Array(32).fill(5), index),
  signers: [1, 2] as PartyId[],
  signingKey: new Uint8Array(32).fill(9),
  secret: new Uint8Array(64).fill(index + 1),
});

async function memoryStore(perKey?: number): Promise<ShareStore> {
  const store = new ShareStore({ backend: new MemoryBackend(), sealer: await sealer(), nodeId: 'node-1', cacheTtlMs: 0, ...(perKey ? { presignaturesPerKey: perKey } : {}) });
  await store.saveShare(storedKey('k'), new Uint8Array(32).fill(1));
  return store;
}

/** Runs the child ledger until it kills itself; what it printed. */
function crashAt(when: 'taken' | 'saved'): Promise<string> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../support/presign-crash-child.ts'), dir, when], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(out.trim()) : reject(new Error(`child exited without SIGKILL: ${out}`)))));
}

async function presignatureRecords(): Promise<string[]> {
  const backend = await LevelBackend.open(join(dir, 'node'));
  try {
    const keys: string[] = [];
    for await (const k of backend.keys({ gte: 'presig!', lt: 'presig"' })) keys.push(k);
    return keys;
  } finally {
    await backend.close();
  }
}

describe('presignatures across kill -9 (LevelDB)', () => {
  it('killed between the durable mark and the send: the record is gone from disk, and nothing brings it back', async () => {
    expect(await crashAt('taken')).toBe('taken');
    expect(await presignatureRecords()).toEqual([]);
  });

  it('killed right after storing one: it is on disk, but the restarted node can neither open nor use it, and erases it', async () => {
    expect(await crashAt('saved')).toBe('saved');
    expect(await presignatureRecords()).toHaveLength(1);
    const reopened = new ShareStore({ backend: await LevelBackend.open(join(dir, 'node')), sealer: await sealer(), nodeId: 'node-1' });
    expect(await reopened.takePresignature('k', made(0).id)).toBeUndefined();
    await reopened.close();
    // As the daemon opens its data directory after the crash.
    const daemon = await ShareStore.open({ dataDir: join(dir, 'node'), nodeId: 'node-1', protector: await createLocalProtector({ type: 'local', keyFile: join(dir, 'kek') }) });
    expect(daemon.presignatureCount()).toBe(0);
    await daemon.close();
    expect(await presignatureRecords()).toEqual([]);
  });
});

describe('the presignature store on the share ledger', () => {
  it('gives a presignature once, even to two takers at the same moment', async () => {
    const store = await memoryStore();
    expect(await store.savePresignatures([made(0), made(1)])).toBe(true);
    expect(store.presignatureCount('k')).toBe(2);
    const [a, b] = await Promise.all([store.takePresignature('k', made(0).id), store.takePresignature('k', made(0).id)]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    const got = (a ?? b)!;
    expect(got).toMatchObject({ keyId: 'k', epoch: 0, signers: [1, 2] });
    expect([...got.secret]).toEqual([...made(0).secret]);
    expect(await store.takePresignature('k', made(0).id)).toBeUndefined();
    expect(store.presignatureCount('k')).toBe(1);
  });

  it('refuses presignatures of an epoch the key is no longer at, and a confirmed refresh erases every one', async () => {
    const store = await memoryStore();
    await store.savePresignatures([made(0), made(1)]);
    await store.stageEpoch('k', 1, new Uint8Array(32).fill(2));
    // Staged, not confirmed: signing (and its presignatures) stay on epoch 0.
    expect(store.presignatureCount('k')).toBe(2);
    await store.confirmEpoch('k', 1);
    expect(store.presignatureCount('k')).toBe(0);
    expect(await store.takePresignature('k', made(1).id)).toBeUndefined();
    expect(await store.savePresignatures([made(2, 0)])).toBe(false);
    expect(await store.savePresignatures([made(2, 1)])).toBe(true);
  });

  it('destroying the key erases them; a process restart (a new ledger over the same disk) leaves none usable', async () => {
    const store = await memoryStore();
    await store.savePresignatures([made(0)]);
    const restarted = store.reopened();
    expect(restarted.presignatureCount()).toBe(0);
    expect(await restarted.takePresignature('k', made(0).id)).toBeUndefined();
    await store.savePresignatures([made(1)]);
    await store.destroyKey('k');
    expect(store.presignatureCount()).toBe(0);
  });

  it('keeps at most the bound per key, dropping the oldest', async () => {
    const store = await memoryStore(3);
    await store.savePresignatures([made(0), made(1)]);
    await store.savePresignatures([made(2), made(3)]);
    expect(store.presignatureCount('k')).toBe(3);
    expect(await store.takePresignature('k', made(0).id)).toBeUndefined();
    expect(await store.takePresignature('k', made(3).id)).toBeDefined();
  });
});
