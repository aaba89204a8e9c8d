/**
 * The node's policy ledger on real LevelDB: the version in force, rate and value counts and
 * spent request ids survive a restart, and many admissions at once (a coordinator the attacker
 * holds, running sessions in parallel) cannot all pass a limit with room for a few.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decide, type SignFacts } from '../../cluster/policy/evaluate.ts';
import { parsePolicy, policyBytes, type Policy } from '../../cluster/policy/document.ts';
import { LevelBackend } from '../../node/store/level-backend.ts';
import { PolicyLedger } from '../../node/store/policy-ledger.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function open(dir?: string): Promise<{ dir: string; db: LevelBackend; ledger: PolicyLedger }> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'policy-ledger-')));
  if (!dir) dirs.push(d);
  const db = await LevelBackend.open(d);
  return { dir: d, db, ledger: new PolicyLedger(db) };
}

const policy: Policy = {
  version: 1,
  rules: [{ name: 'capped', rate: { perMinute: 2, perDay: 5 }, solana: { maxValuePerDay: '1000' } }],
  default: 'deny',
};
const facts = (value: bigint, requestId = ''): SignFacts => ({
  keyId: 'k',
  scheme: 'eddsa-ed25519',
  derivationPath: '',
  transaction: { chain: 'solana', transfers: [{ to: 'x', value }], opaque: [] },
  approvers: new Set(),
  deadline: 0,
  requestId,
  now: new Date(),
});
let session = 0;
const admit = (ledger: PolicyLedger, value: bigint, now = new Date(), requestId = '') =>
  ledger.admit('k', `s${session++}`, { chain: 'solana', requestId, rule: 'capped' }, now, (usage) => decide(policy, { ...facts(value, requestId), now }, usage));

describe('policy ledger on LevelDB', () => {
  it('keeps the rate count across a restart: a third signature in the minute is refused by the restarted node', async () => {
    const first = await open();
    expect((await admit(first.ledger, 1n)).allowed).toBe(true);
    expect((await admit(first.ledger, 1n)).allowed).toBe(true);
    await first.db.close();
    const again = await open(first.dir);
    expect(await admit(again.ledger, 1n)).toMatchObject({ allowed: false, reason: 'rate limit: 2 signatures per minute' });
    // A minute later the per-minute room is back; the per-day count (5) still holds what was signed.
    const later = new Date(Date.now() + 61_000);
    expect((await admit(again.ledger, 1n, later)).allowed).toBe(true);
    await again.db.close();
  });

  it('lets exactly as many concurrent admissions through as the daily value cap has room for', async () => {
    const { db, ledger } = await open();
    const spread = (i: number) => new Date(Date.now() + i * 61_000); // apart by more than a minute: only the value cap binds
    const outcomes = await Promise.all(Array.from({ length: 5 }, (_, i) => admit(ledger, 300n, spread(i))));
    expect(outcomes.filter((o) => o.allowed)).toHaveLength(3); // 3 × 300 ≤ 1000 < 4 × 300
    expect(outcomes.filter((o) => !o.allowed).every((o) => !o.allowed && /over the daily cap 1000/.test(o.reason))).toBe(true);
    await db.close();
  });

  it('keeps the policy version and spent request ids across a restart, and takes only newer versions', async () => {
    const first = await open();
    const v1 = policyBytes(parsePolicy(policy));
    expect(await first.ledger.apply(v1, [])).toMatchObject({ ok: true });
    expect((await admit(first.ledger, 1n, new Date(), 'req-1')).allowed).toBe(true);
    await first.ledger.requestEnded('req-1', 'x', true);
    await first.db.close();
    const again = await open(first.dir);
    expect(await again.ledger.active()).toMatchObject({ version: 1 });
    expect(await again.ledger.apply(v1, [])).toMatchObject({ ok: false, reason: expect.stringMatching(/not above the version in force \(1\)/) });
    expect(await admit(again.ledger, 1n, new Date(Date.now() + 120_000), 'req-1')).toMatchObject({ allowed: false, reason: expect.stringMatching(/signed already/) });
    await again.db.close();
  });
});
