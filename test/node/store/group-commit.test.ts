/**
 * The ledger's group commit (node/store/group-commit.ts): synced writes made in one event-loop
 * turn go out together, writes that arrive while a batch is on its way to disk go out together in
 * the next one, none resolves before its own batch is on disk, and a failed batch fails exactly
 * the writes in it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBackend, type BatchOp } from '../../../node/store/backend.ts';
import { GroupCommit } from '../../../node/store/group-commit.ts';
import { presignatureId, type Presignature } from '../../../node/store/presignatures.ts';
import { ShareSealer } from '../../../node/store/sealer.ts';
import { ShareStore } from '../../../node/store/share-store.ts';
import type { PartyId } from '../../../protocol/core/ids.ts';
import { createLocalProtector } from '../../../cluster/providers/local.ts';
import { storedKey } from '../../support/stored-key.ts';

/** A disk that records every batch with its options and, while `holding`, keeps each on its way until `land`. */
class HeldDisk extends MemoryBackend {
  readonly batches: { keys: string[]; sync: boolean }[] = [];
  private held: { land: () => void; fail: (e: Error) => void }[] = [];
  /** Whether batches are held until `land`; otherwise they reach the disk at once. */
  holding = false;

  override async batch(ops: readonly BatchOp[], opts?: { sync: boolean }): Promise<void> {
    this.batches.push({ keys: ops.map((o) => `${o.type} ${o.key}`), sync: opts?.sync === true });
    if (!this.holding) return super.batch(ops);
    await new Promise<void>((land, fail) => this.held.push({ land, fail }));
    return super.batch(ops);
  }
  /** Lets the oldest held batch reach the disk (or fail). */
  land(error?: Error): void {
    const next = this.held.shift();
    if (!next) throw new Error('no batch is on its way');
    if (error) next.fail(error);
    else next.land();
  }
  get inFlight(): number {
    return this.held.length;
  }
}

/** Whether a promise has settled by the time queued work has run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
  return done;
}

const put = (key: string): BatchOp => ({ type: 'put', key, value: new Uint8Array([1]) });
/** The end of this event-loop turn: a batch the writes so far started is on its way. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('writes made in one turn go out as one synced batch; writes arriving while it is on disk go together in the next, and each resolves only with its own', async () => {
    const disk = new HeldDisk();
    disk.holding = true;
    const synced = new GroupCommit(disk);
    const first = synced.write([put('a')]);
    const sameTurn = synced.write([put('e')]);
    expect(disk.batches).toEqual([]);
    await nextTurn();
    expect(disk.batches).toEqual([{ keys: ['put a', 'put e'], sync: true }]);
    const second = synced.write([put('b'), put('c')]);
    const third = synced.write([{ type: 'del', key: 'a' }]);
    expect(await settled(first)).toBe(false);
    disk.land();
    await Promise.all([first, sameTurn]);
    expect(await settled(second)).toBe(false);
    expect(disk.batches[1]).toEqual({ keys: ['put b', 'put c', 'del a'], sync: true });
    expect(disk.getSync('b')).toBeUndefined();
    disk.land();
    await Promise.all([second, third]);
    expect([disk.getSync('a'), disk.getSync('b'), disk.getSync('c'), disk.getSync('e')]).toEqual([undefined, new Uint8Array([1]), new Uint8Array([1]), new Uint8Array([1])]);
    expect(disk.batches).toHaveLength(2);
  });

  it('a failed batch rejects every write in it and no other; the next batch still goes', async () => {
    const disk = new HeldDisk();
    disk.holding = true;
    const synced = new GroupCommit(disk);
    const before = synced.write([put('x')]);
    await nextTurn();
    const inFailed = [synced.write([put('y')]), synced.write([put('z')])];
    disk.land();
    await before;
    disk.land(new Error('disk full'));
    for (const w of inFailed) await expect(w).rejects.toThrow('disk full');
    const after = synced.write([put('w')]);
    await nextTurn();
    disk.land();
    await after;
    expect([disk.getSync('x'), disk.getSync('y'), disk.getSync('z'), disk.getSync('w')].map(Boolean)).toEqual([true, false, false, true]);
    expect(disk.inFlight).toBe(0);
  });
});

describe("a signing node's claim and presignature take", () => {
  const presignature = (index: number): Presignature => ({
    keyId: 'k',
    epoch: 0,
    id: presignatureId(new Uint8Array(32).fill(7), index),
    signers: [1, 2] as PartyId[],
    signingKey: new Uint8Array(32).fill(9),
    secret: new Uint8Array(64).fill(index + 1),
  });
  /** A share store on a HeldDisk, holding key k's share and `made` presignatures, its batches forgotten. */
  async function storeHolding(made: readonly Presignature[]): Promise<{ disk: HeldDisk; store: ShareStore }> {
    const dir = await mkdtemp(join(tmpdir(), 'group-commit-'));
    const sealer = new ShareSealer(await createLocalProtector({ type: 'local', keyFile: join(dir, 'kek') }));
    await rm(dir, { recursive: true, force: true });
    const disk = new HeldDisk();
    const store = new ShareStore({ backend: disk, sealer, nodeId: 'node-1', cacheTtlMs: 0 });
    await store.saveShare(storedKey('k'), new Uint8Array(32).fill(1));
    expect(await store.savePresignatures(made)).toBe(true);
    disk.batches.length = 0;
    return { disk, store };
  }

  it('made in the same turn share one synced batch, even with no other batch on its way', async () => {
    const { disk, store } = await storeHolding([presignature(0)]);
    const [claimed, taken] = await Promise.all([store.claimSession('k', 'session-0'), store.takePresignature('k', presignature(0).id)]);
    expect([claimed, taken?.secret]).toEqual([true, presignature(0).secret]);
    expect(disk.batches).toEqual([{ keys: [expect.stringContaining('session-0'), expect.stringContaining(presignature(0).id)], sync: true }]);
  });

  it('made while a batch is on disk share the next synced batch, and neither resolves before it lands', async () => {
    const { disk, store } = await storeHolding([presignature(0), presignature(1)]);
    disk.holding = true;
    const earlier = store.claimSession('k', 'session-0');
    await nextTurn();
    const claimed = store.claimSession('k', 'session-1');
    const taken = store.takePresignature('k', presignature(1).id);
    expect(disk.batches).toHaveLength(1);
    disk.land();
    expect(await earlier).toBe(true);
    expect(disk.batches[1]).toEqual({ keys: [expect.stringContaining('session-1'), expect.stringContaining(presignature(1).id)], sync: true });
    expect(await settled(claimed)).toBe(false);
    expect(await settled(taken)).toBe(false);
    disk.land();
    expect(await claimed).toBe(true);
    const got = await taken;
    expect(got?.secret).toEqual(presignature(1).secret);
    expect(disk.batches).toHaveLength(2);
    // Both durable: the id cannot be claimed again, the presignature cannot be taken again.
    expect(await store.claimSession('k', 'session-1')).toBe(false);
    expect(await store.takePresignature('k', presignature(1).id)).toBeUndefined();
  });
});
