import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog, verifyAuditLog } from '../../node/audit.ts';
import type { PartyId } from '../../protocol/core/ids.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signer = (m: Uint8Array) => sign(null, m, privateKey);
const verifier = (m: Uint8Array, s: Uint8Array) => verify(null, m, publicKey, s);
const entry = (i: number) => ({ event: 'sign' as const, keyId: `k${i}`, session: 'ab'.repeat(32), signers: [1, 2] as PartyId[], outcome: 'completed' as const });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audit-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function writeLog(file: string, n: number) {
  let log = await AuditLog.open(file, signer);
  for (let i = 0; i < n; i++) {
    await log.append(entry(i));
    if (i === 1) {
      await log.close(); // reopening resumes the chain
      log = await AuditLog.open(file, signer);
    }
  }
  await log.close();
}

describe('audit log', () => {
  it('chains and signs every entry, across reopenings', async () => {
    const file = join(dir, 'audit.log');
    await writeLog(file, 5);
    expect(await verifyAuditLog(file, verifier)).toEqual({ ok: true, entries: 5 });
  });

  it('reports the first broken entry when one is edited, dropped, or signed by another key', async () => {
    const file = join(dir, 'audit.log');
    await writeLog(file, 5);
    const lines = (await readFile(file, 'utf8')).split('\n');
    await writeFile(file, lines.map((l, i) => (i === 2 ? l.replace('"k2"', '"k9"') : l)).join('\n'));
    expect(await verifyAuditLog(file, verifier)).toMatchObject({ ok: false, brokenAt: 2, reason: 'bad signature' });
    await writeFile(file, lines.filter((_, i) => i !== 3).join('\n'));
    expect(await verifyAuditLog(file, verifier)).toMatchObject({ ok: false, brokenAt: 3 });
    await writeFile(file, lines.join('\n'));
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(await verifyAuditLog(file, (m, s) => verify(null, m, other, s))).toMatchObject({ ok: false, brokenAt: 0, reason: 'bad signature' });
  });

  it('refuses to resume a log with a torn last line', async () => {
    const file = join(dir, 'audit.log');
    await writeLog(file, 2);
    await writeFile(file, (await readFile(file, 'utf8')) + '{"entry":{"ev');
    await expect(AuditLog.open(file, signer)).rejects.toThrow(/partial line/);
    expect(await verifyAuditLog(file, verifier)).toMatchObject({ ok: false, brokenAt: 2 });
  });
});

describe('audit log group commit', () => {
  it('writes the appends of one turn, and those arriving while a write is on its way, in batches: one synchronous write each, in call order, each on disk when it resolves', async () => {
    const file = join(dir, 'audit.log');
    const log = await AuditLog.open(file, signer);
    const handle = (log as unknown as { fh: { fd: number } }).fh;
    // A write on an O_SYNC descriptor returns once its bytes are on disk: that is what makes a
    // resolved append durable without an fsync of its own (Linux shows the flags in fdinfo).
    const flags = parseInt(/^flags:\s+([0-7]+)$/m.exec(await readFile(`/proc/self/fdinfo/${handle.fd}`, 'utf8'))![1]!, 8);
    expect(flags & constants.O_SYNC).toBe(constants.O_SYNC);
    expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);
    const writes = vi.spyOn(Object.getPrototypeOf(handle) as { write(): Promise<unknown> }, 'write');
    const onDisk: number[] = [];
    const append = (i: number) =>
      log.append(entry(i)).then(async () => {
        // Resolved means written: the entry is in the file already (complete lines only: the
        // next batch may be half-written by now).
        const keys = (await readFile(file, 'utf8')).split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { entry: { keyId: string } }).entry.keyId);
        if (keys.includes(`k${i}`)) onDisk.push(i);
      });
    const firstTurn = Array.from({ length: 20 }, (_, i) => append(i));
    // The turn ended: the first 20 are on their way to disk, in one write, which cannot have
    // returned yet (its completion comes in a later phase of the event loop than this one).
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.mock.calls.length).toBe(1);
    expect(String((writes.mock.calls[0] as unknown[])[0]).split('\n').filter(Boolean)).toHaveLength(20);
    const whileWriting = Array.from({ length: 20 }, (_, i) => append(20 + i));
    await Promise.all([...firstTurn, ...whileWriting]);
    await log.close();
    expect(onDisk).toHaveLength(40);
    // The 20 appended in one turn share one write; the 20 that arrived while it was on its way share the next.
    expect(writes.mock.calls.length).toBe(2);
    writes.mockRestore();
    expect(await verifyAuditLog(file, verifier)).toEqual({ ok: true, entries: 40 });
    const keys = (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { entry: { keyId: string; seq: number } }).entry);
    expect(keys.map((e) => e.keyId)).toEqual(Array.from({ length: 40 }, (_, i) => `k${i}`));
    expect(keys.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('fails every entry of a batch that cannot be written, and the chain goes on from the last one that was', async () => {
    const file = join(dir, 'audit.log');
    const log = await AuditLog.open(file, signer);
    await log.append(entry(0));
    let failSigning = true;
    const flaky = await AuditLog.open(file, (m) => {
      if (failSigning) throw new Error('identity key unavailable');
      return signer(m);
    });
    const failed = await Promise.allSettled([flaky.append(entry(1)), flaky.append(entry(2)), flaky.append(entry(3))]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    failSigning = false;
    await flaky.append(entry(4));
    await flaky.close();
    await log.close();
    expect(await verifyAuditLog(file, verifier)).toEqual({ ok: true, entries: 2 });
    const entries = (await readFile(file, 'utf8')).split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { entry: { keyId: string; seq: number } }).entry);
    expect(entries.map((e) => [e.keyId, e.seq])).toEqual([['k0', 0], ['k4', 1]]);
  });
});
