import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalProtector } from '../../../cluster/providers/local.ts';
import { ShareStore } from '../../../node/store/share-store.ts';
import { storedKey as key } from '../../support/stored-key.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'store-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));


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

/**
 * What only the LevelDB store on disk has: no plaintext in its files, tamper and move detection of
 * sealed records, provider rules, re-wrapping, and crash safety under SIGKILL. The epoch rules every
 * backend shares are in ledger-contract.test.ts.
 */
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
      // Killed once it has acknowledged 2..6 writes of its own, wherever the next one is: the kill
      // lands at a moment set by the writes, not by the clock, so a slow machine kills as often.
      const ackedHere = 2 + Math.floor(Math.random() * 5);
      let seen = 0;
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          for (const m of d.toString().matchAll(/ack (\d+)/g)) {
            acked.add(Number(m[1]));
            if (++seen === ackedHere) resolve();
          }
        });
        child.once('exit', () => resolve());
      });
      const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
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
