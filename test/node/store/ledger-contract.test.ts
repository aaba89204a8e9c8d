/**
 * The share ledger's contract, run against every backend it stands on: LevelDB on disk (the
 * daemon) and memory (the simulations). Epoch state machine, per-key serialised metadata
 * writes, burned pairs, resharing's pending keys, and the durable session ledger; a "restart"
 * opens a new ledger over the same backend contents.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalProtector } from '../../../cluster/providers/local.ts';
import { MemoryBackend } from '../../../node/store/backend.ts';
import { LevelBackend } from '../../../node/store/level-backend.ts';
import { ShareSealer } from '../../../node/store/sealer.ts';
import { ShareStore } from '../../../node/store/share-store.ts';
import type { PartyId } from '../../../protocol/core/ids.ts';
import { storedKey as key } from '../../support/stored-key.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ledger-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));


const sealer = async () => new ShareSealer(await createLocalProtector({ type: 'local', keyFile: join(dir, 'kek') }));

/** Each backend as a disk: `open` after `close` sees what was written before. */
const BACKENDS: { name: string; disk(): () => Promise<ShareStore> }[] = [
  {
    name: 'LevelDB',
    disk: () => async () => new ShareStore({ backend: await LevelBackend.open(join(dir, 'node')), sealer: await sealer(), nodeId: 'node-1', cacheTtlMs: 0 }),
  },
  {
    name: 'memory',
    disk: () => {
      const backend = new MemoryBackend();
      return async () => new ShareStore({ backend, sealer: await sealer(), nodeId: 'node-1', cacheTtlMs: 0 });
    },
  },
];

describe.each(BACKENDS)('share ledger over $name', (backend) => {
  let open: () => Promise<ShareStore>;
  beforeEach(() => {
    open = backend.disk();
  });

  it('keeps the current epoch until its staged successor is confirmed, then erases it', async () => {
    const store = await open();
    await store.saveShare(key('a'), new Uint8Array(32).fill(1));
    await store.stageEpoch('a', 1, new Uint8Array(32).fill(2));
    expect(await store.epochs('a')).toEqual([0, 1]);
    expect((await store.loadShare('a'))!.share[0]).toBe(1);
    await expect(store.stageEpoch('a', 0, new Uint8Array(32))).rejects.toThrow(/not after/);
    await store.confirmEpoch('a', 1);
    await store.confirmEpoch('a', 1); // idempotent
    expect(await store.epochs('a')).toEqual([1]);
    expect((await store.loadShare('a'))!.share[0]).toBe(2);
    await store.stageEpoch('a', 2, new Uint8Array(32).fill(3));
    await store.destroyKey('a'); // crypto-shredding: every epoch and the metadata
    expect(await store.epochs('a')).toEqual([]);
    expect(await store.loadShare('a')).toBeUndefined();
    expect(await store.hasKey('a')).toBe(false);
    await store.close();
  });

  it('concurrent burns and epoch writes on one key: no burn is lost (metadata writes are serialised per key)', async () => {
    const store = await open();
    await store.saveShare(key('race'), new Uint8Array(32).fill(1));
    // Twenty rounds of a burn racing a refresh's stage: before the per-key lock, the stage's
    // read-modify-write of the metadata overwrote a burn written in between.
    const peers = Array.from({ length: 20 }, (_, i) => (i + 2) as PartyId);
    await Promise.all(peers.flatMap((peer, i) => [store.burnPair('race', peer, 0), store.stageEpoch('race', 1 + i, new Uint8Array(32).fill(2))]));
    expect(await store.burnedPairs('race')).toEqual(peers);
    // A burn for an epoch that is no longer current does nothing (the setup it names is gone).
    await store.confirmEpoch('race', 20);
    await store.burnPair('race', 3 as PartyId, 0);
    expect(await store.burnedPairs('race')).toEqual([]);
    await store.close();
  });

  it('session ledger: an id is accepted once per key, also after a restart and after more than 100 000 other ids', async () => {
    let store = await open();
    const victim = 'aa'.repeat(16);
    expect(await store.claimSession('k', victim)).toBe(true);
    expect(await store.claimSession('k', victim)).toBe(false);
    // Two claims of one new id at the same moment: exactly one wins.
    const both = await Promise.all([store.claimSession('k', 'bb'.repeat(16)), store.claimSession('k', 'bb'.repeat(16))]);
    expect(both.sort()).toEqual([false, true]);
    // The same id under another key is another session.
    expect(await store.claimSession('other', victim)).toBe(true);
    // A flood of other ids (the in-memory set it replaces forgot everything at 100 000).
    for (let chunk = 0; chunk < 101; chunk++) {
      const ids = Array.from({ length: 1000 }, (_, i) => (chunk * 1000 + i).toString(16).padStart(32, '0'));
      expect((await Promise.all(ids.map((id) => store.claimSession('k', id)))).every(Boolean)).toBe(true);
    }
    expect(await store.claimSession('k', victim)).toBe(false);
    await store.close();
    store = await open();
    expect(await store.claimSession('k', victim)).toBe(false);
    expect(await store.claimSession('k', 'cc'.repeat(16))).toBe(true);
    await store.close();
  });

  it('remembers burned OT pairs across restarts, and a new epoch clears them', async () => {
    let store = await open();
    await store.saveShare(key('b'), new Uint8Array(32).fill(1));
    await store.burnPair('b', 3 as PartyId, 0);
    await store.burnPair('b', 2 as PartyId, 0);
    await store.burnPair('b', 3 as PartyId, 0);
    await store.close();
    store = await open();
    expect(await store.burnedPairs('b')).toEqual([2, 3]);
    expect((await store.loadShare('b'))!.share[0]).toBe(1);
    await store.stageEpoch('b', 1, new Uint8Array(32).fill(2));
    expect(await store.burnedPairs('b')).toEqual([2, 3]);
    await store.confirmEpoch('b', 1);
    expect(await store.burnedPairs('b')).toEqual([]);
    await store.close();
  });

  it('stages a resharing: a new key stays pending until confirmed; a continuing key takes its new committee on confirm', async () => {
    const store = await open();
    const committee = { ...key('r'), threshold: 3, parties: [1, 2, 3, 4] as PartyId[] };
    await store.stageEpoch('r', 4, new Uint8Array(32).fill(4), committee);
    expect(await store.loadShare('r')).toBeUndefined();
    expect((await store.listKeys()).map((k) => k.keyId)).not.toContain('r');
    await store.confirmEpoch('r', 4);
    expect(await store.loadShare('r')).toMatchObject({ epoch: 4, key: { threshold: 3, parties: [1, 2, 3, 4] } });

    await store.saveShare(key('c'), new Uint8Array(32).fill(1));
    await store.stageEpoch('c', 1, new Uint8Array(32).fill(2), { ...key('c'), threshold: 3, parties: [2, 3, 4] as PartyId[] });
    expect(await store.loadShare('c')).toMatchObject({ epoch: 0, key: { threshold: 2, parties: [1, 2, 3] } });
    await store.confirmEpoch('c', 1);
    expect(await store.loadShare('c')).toMatchObject({ epoch: 1, key: { threshold: 3, parties: [2, 3, 4] } });
    await store.close();
  });

  it('the metadata a ledger remembers is what is on disk: after every kind of write, a new ledger over the same disk reads the same', async () => {
    const store = await open();
    const seen = async (s: ShareStore) => ({ state: await s.inspect('m'), has: await s.hasKey('m'), keys: (await s.listKeys()).map((k) => k.keyId) });
    const committee = { ...key('m'), threshold: 3, parties: [1, 2, 3, 4] as PartyId[] };
    const writes: [string, () => Promise<void>][] = [
      ['save', () => store.saveShare(key('m'), new Uint8Array(32).fill(1))],
      ['burn', () => store.burnPair('m', 2 as PartyId, 0)],
      ['stage', () => store.stageEpoch('m', 1, new Uint8Array(32).fill(2), committee)],
      ['confirm', () => store.confirmEpoch('m', 1)],
      ['burn again', () => store.burnPair('m', 3 as PartyId, 1)],
      ['destroy', () => store.destroyKey('m')],
      ['pending', () => store.stageEpoch('m', 5, new Uint8Array(32).fill(5), committee)],
      ['activate', () => store.confirmEpoch('m', 5)],
    ];
    for (const [what, write] of writes) {
      await write();
      expect({ what, ...(await seen(store)) }).toEqual({ what, ...(await seen(store.reopened())) });
    }
    expect((await seen(store)).state).toMatchObject({ epoch: 5, status: 'active', burned: [], key: { threshold: 3 } });
    await store.close();
  });
});

describe('share ledger metadata in memory', () => {
  /** A disk whose next read hands back what it read only when `release` is called. */
  class HeldReadBackend extends MemoryBackend {
    private hold?: Promise<void>;
    release = () => undefined as void;
    holdNextRead(): void {
      this.hold = new Promise((r) => (this.release = r));
    }
    override async get(k: string): Promise<Uint8Array | undefined> {
      const value = await super.get(k);
      const hold = this.hold;
      this.hold = undefined;
      await hold;
      return value;
    }
  }

  it('a read that raced a write of the same key is not remembered', async () => {
    const backend = new HeldReadBackend();
    const store = new ShareStore({ backend, sealer: await sealer(), nodeId: 'node-1', cacheTtlMs: 0 });
    await store.saveShare(key('r'), new Uint8Array(32).fill(1));
    const fresh = store.reopened(); // remembers nothing yet
    backend.holdNextRead();
    const stale = fresh.burnedPairs('r'); // read from disk before the burn, answered after it
    await fresh.burnPair('r', 2 as PartyId, 0);
    backend.release();
    expect(await stale).toEqual([]);
    expect(await fresh.burnedPairs('r')).toEqual([2]);
    expect(await fresh.reopened().burnedPairs('r')).toEqual([2]);
  });

  it('hands out frozen metadata: a caller cannot change what the next one reads', async () => {
    const store = new ShareStore({ backend: new MemoryBackend(), sealer: await sealer(), nodeId: 'node-1', cacheTtlMs: 0 });
    await store.saveShare(key('f'), new Uint8Array(32).fill(1));
    const loaded = (await store.loadShare('f'))!;
    expect(() => (loaded.key.parties as PartyId[]).push(9 as PartyId)).toThrow(TypeError);
    expect((await store.loadShare('f'))!.key.parties).toEqual([1, 2, 3]);
  });
});
