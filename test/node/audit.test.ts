import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
