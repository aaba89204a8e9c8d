import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalProtector } from '../../../cluster/providers/local.ts';
import { ShareStore } from '../../../node/store/share-store.ts';
import type { StoredKey } from '../../../node/runtime.ts';
import type { PartyId } from '../../../protocol/core/ids.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'store-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const key = (keyId: string): StoredKey => ({
  keyId,
  scheme: 'eddsa-ed25519',
  threshold: 2,
  parties: [1, 2, 3] as PartyId[],
  groupKey: new Uint8Array(32).fill(9),
  chainCode: new Uint8Array(32).fill(7),
});

async function open(nodeId = 'node-1', dataDir = join(dir, 'node'), keyFile = join(dir, 'kek')) {
  return ShareStore.open({ dataDir, nodeId, protector: await createLocalProtector({ type: 'local', keyFile }), cacheTtlMs: 0 });
}

async function walk(d: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

describe('sealed share store (LevelDB + local provider)', () => {
  it('round-trips shares and leaves no plaintext share bytes in the data directory', async () => {
    const store = await open();
    const shares = new Map<string, Uint8Array>();
    for (let i = 0; i < 20; i++) {
      const share = new Uint8Array(randomBytes(96));
      shares.set(`k${i}`, share);
      await store.saveShare(key(`k${i}`), share);
    }
    for (const [id, share] of shares) {
      const loaded = await store.loadShare(id);
      expect(Buffer.from(loaded!.share).equals(Buffer.from(share))).toBe(true);
      expect(loaded!.key.keyId).toBe(id);
    }
    expect(await store.loadShare('nope')).toBeUndefined();
    expect((await store.listKeys()).map((k) => k.keyId).sort()).toEqual([...shares.keys()].sort());
    await store.close();
    for (const file of await walk(join(dir, 'node'))) {
      const content = await readFile(file);
      for (const share of shares.values()) expect(content.indexOf(Buffer.from(share.subarray(0, 24)))).toBe(-1);
    }
  });

  it('refuses a record whose bytes were tampered with, and a record moved to another node or key', async () => {
    const store = await open();
    await store.saveShare(key('a'), new Uint8Array(64).fill(1));
    await store.saveShare(key('b'), new Uint8Array(64).fill(2));
    await store.close();
    let db = new Level<string, Uint8Array>(join(dir, 'node', 'store'), { keyEncoding: 'utf8', valueEncoding: 'view' });
    const original = (await db.get('share!a!0000000000'))!;
    // Flip one bit at every position: every field (version, provider, kekRef, wrapped key, nonce, ciphertext) is covered.
    for (let i = 0; i < original.length; i += 7) {
      const bad = Uint8Array.from(original);
      bad[i]! ^= 0x01;
      await db.put('share!a!0000000000', bad);
      await db.close();
      const s = await open();
      await expect(s.loadShare('a')).rejects.toThrow(/does not open|malformed|unknown sealed record|unwrap/);
      await s.close();
      await db.open();
    }
    // Another key's record under key a's name: the binding (key id) differs.
    await db.put('share!a!0000000000', (await db.get('share!b!0000000000'))!);
    await db.close();
    let s = await open();
    await expect(s.loadShare('a')).rejects.toThrow(/does not open/);
    await s.close();
    // Another epoch's record under epoch 0's name: the binding (epoch) differs.
    s = await open();
    await s.stageEpoch('b', 1, new Uint8Array(64).fill(9));
    await s.close();
    db = new Level<string, Uint8Array>(join(dir, 'node', 'store'), { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    await db.put('share!b!0000000000', (await db.get('share!b!0000000001'))!);
    await db.close();
    s = await open();
    await expect(s.loadShare('b')).rejects.toThrow(/does not open/);
    await s.close();
    // The same data directory opened as another node: every binding differs.
    s = await open('node-2');
    await expect(s.loadShare('a')).rejects.toThrow(/does not open/);
    await s.close();
  });

  it('the local provider refuses to start under NODE_ENV=production unless overridden, and says why', async () => {
    await expect(createLocalProtector({ type: 'local', keyFile: join(dir, 'kek') }, { NODE_ENV: 'production' })).rejects.toMatchObject({
      code: 'refused',
      message: expect.stringContaining('development only'),
    });
    await expect(createLocalProtector({ type: 'local', keyFile: join(dir, 'kek') }, { NODE_ENV: 'production', MPC_ALLOW_LOCAL_PROVIDER: '1' })).resolves.toBeDefined();
    await expect(createLocalProtector({ type: 'local', passphraseEnv: 'PASS', saltFile: join(dir, 'salt') }, {})).rejects.toMatchObject({ code: 'misconfigured' });
    const a = await createLocalProtector({ type: 'local', passphraseEnv: 'PASS', saltFile: join(dir, 'salt') }, { PASS: 'correct horse' });
    const b = await createLocalProtector({ type: 'local', passphraseEnv: 'PASS', saltFile: join(dir, 'salt') }, { PASS: 'correct horse' });
    const w = await a.wrapKey(new Uint8Array(32).fill(1), new Uint8Array(3));
    expect(Buffer.from(await b.unwrapKey(w, new Uint8Array(3)))).toEqual(Buffer.alloc(32, 1));
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

  it('re-wraps every data key under a new key-encryption key without touching the shares', async () => {
    const store = await open();
    await store.saveShare(key('a'), new Uint8Array(64).fill(3));
    const next = await createLocalProtector({ type: 'local', keyFile: join(dir, 'kek2') });
    expect(await store.rewrap(next)).toBe(1);
    expect(await store.rewrap(next)).toBe(0); // idempotent
    await store.close();
    const withOldKek = await open();
    await expect(withOldKek.loadShare('a')).rejects.toThrow(/does not open/); // old KEK no longer opens it
    await withOldKek.close();
    const reopened = await open('node-1', join(dir, 'node'), join(dir, 'kek2'));
    expect(Buffer.from((await reopened.loadShare('a'))!.share).equals(Buffer.alloc(64, 3))).toBe(true);
    await reopened.close();
  });

  it('survives SIGKILL at random moments: every acknowledged share opens, nothing is corrupt', async () => {
    const writer = join(dir, 'writer.ts');
    const storeModule = new URL('../../../node/store/share-store.ts', import.meta.url).pathname;
    const localModule = new URL('../../../cluster/providers/local.ts', import.meta.url).pathname;
    await writeFile(
      writer,
      `import { ShareStore } from ${JSON.stringify(storeModule)};
import { createLocalProtector } from ${JSON.stringify(localModule)};
const [dataDir, keyFile, start] = process.argv.slice(2);
const store = await ShareStore.open({ dataDir, nodeId: 'node-1', protector: await createLocalProtector({ type: 'local', keyFile }) });
for (let i = Number(start); ; i++) {
  const share = new Uint8Array(64).fill(i % 256);
  await store.saveShare({ keyId: 'k' + i, scheme: 'eddsa-ed25519', threshold: 2, parties: [1, 2], groupKey: new Uint8Array(32), chainCode: new Uint8Array(32) }, share);
  process.stdout.write('ack ' + i + '\\n');
}
`,
    );
    const acked = new Set<number>();
    let next = 0;
    for (let round = 0; round < 20; round++) {
      const child = spawn(process.execPath, [writer, join(dir, 'node'), join(dir, 'kek'), String(next)], { stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout.on('data', (d: Buffer) => {
        for (const m of d.toString().matchAll(/ack (\d+)/g)) acked.add(Number(m[1]));
      });
      await new Promise((r) => setTimeout(r, 250 + Math.random() * 400));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      next = Math.max(next, ...acked) + 1_000; // fresh key ids for the next writer
    }
    expect(acked.size).toBeGreaterThan(20);
    const store = await open();
    for (const i of acked) {
      const loaded = await store.loadShare(`k${i}`);
      expect(loaded, `acknowledged share k${i}`).toBeDefined();
      expect(loaded!.share.every((b) => b === i % 256)).toBe(true);
    }
    // Unacknowledged writes either landed whole or not at all.
    for (const k of await store.listKeys()) await store.loadShare(k.keyId);
    await store.close();
  }, 60_000);
});
