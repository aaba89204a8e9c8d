/**
 * Presignatures end to end over the engine and real node runtimes (in-memory network and
 * ledgers): warm pools sign in one flight, and an adversary holding the coordinator's identity
 * cannot get any presignature used twice — not by naming it again, not in two sessions at once,
 * not after a refresh, not after a node restarted, not with another signer set.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyInfo, RequestContext } from '../../coordinator/service.ts';
import { SIGN_REQUEST_DEFAULTS, signRequestCodec, type CoordinatorMessage, type NodeReport, type PresignatureRef, type SignRequest } from '../../cluster/control.ts';
import { encodeCbor, type Bytes, type PartyId } from '../../protocol/core/index.ts';
import { schemeOf, type Scheme } from '../../protocol/schemes/index.ts';
import { MemoryCluster } from '../../simulations/memory-cluster.ts';
import { until } from '../support/until.ts';

const ctx = (ms = 20_000): RequestContext => ({ deadline: Date.now() + ms, requestId: 'test', emit: () => undefined });
const sha256 = (m: string) => createHash('sha256').update(m).digest();
const messageFor = (scheme: Scheme, text: string) => (scheme === 'eddsa-ed25519' ? new TextEncoder().encode(text) : sha256(text));

let cluster: MemoryCluster | undefined;
afterEach(() => cluster?.close());

const counts = { hit: 0, miss: 0 };
async function warmCluster(scheme: Scheme, size = 4): Promise<{ c: MemoryCluster; key: KeyInfo }> {
  counts.hit = counts.miss = 0;
  const c = await MemoryCluster.create({
    nodes: 3,
    engine: { presign: { size, lowWater: size } },
    observe: { presign: { hit: () => counts.hit++, miss: () => counts.miss++ } },
  });
  cluster = c;
  await c.settle();
  c.recordReports = true;
  c.recordAudits = true;
  const key = await c.engine.createKey({ scheme, nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
  await until('a full pool', () => c.engine.presignPoolSize({ keyId: key.id, derivationPath: '' }) === size, { within: 20_000 });
  return { c, key };
}

/** A sign request signed with the coordinator's key, as the attacker holding it would send. */
function forgedSign(c: MemoryCluster, key: KeyInfo, req: Pick<SignRequest, 'message' | 'signers'> & Partial<SignRequest>): { session: Bytes; message: CoordinatorMessage } {
  const session = randomBytes(32) as Bytes;
  const request = encodeCbor(signRequestCodec, { ...SIGN_REQUEST_DEFAULTS, session, keyId: key.id, scheme: key.scheme, epoch: key.epoch ?? 0, ...req }) as Bytes;
  return { session, message: { type: 'sign', request } };
}

async function reportOf(c: MemoryCluster, node: number, session: Uint8Array): Promise<NodeReport> {
  const hex = Buffer.from(session).toString('hex');
  let found: NodeReport | undefined;
  await until(`node ${node}'s report`, () => !!(found = c.reports.find((r) => r.from === node && 'session' in r.report && Buffer.from(r.report.session).toString('hex') === hex)?.report), { within: 20_000 });
  return found!;
}

/** Every presignature the nodes reported making, as a sign request names it, with its signers. */
function presignaturesMade(c: MemoryCluster): { ref: PresignatureRef; signers: PartyId[] }[] {
  const bySession = new Map<string, { from: number; report: Extract<NodeReport, { type: 'presign_done' }> }[]>();
  for (const r of c.reports) {
    if (r.report.type !== 'presign_done') continue;
    const hex = Buffer.from(r.report.session).toString('hex');
    bySession.set(hex, [...(bySession.get(hex) ?? []), { from: r.from, report: r.report }]);
  }
  return [...bySession.values()].flatMap((reports) => {
    const signers = reports.map((r) => r.from as PartyId).sort((a, b) => a - b);
    const count = Math.max(1, reports[0]!.report.commitments.length);
    return Array.from({ length: count }, (_, index) => ({
      signers,
      ref: {
        session: reports[0]!.report.session,
        index,
        commitments: reports[0]!.report.commitments.length ? signers.map((s) => reports.find((r) => r.from === s)!.report.commitments[index]!) : [],
      },
    }));
  });
}

const usedPresignatures = (c: MemoryCluster) => c.audits.filter((a) => a.entry.event === 'sign' && a.entry.outcome === 'completed' && a.entry.presignature).map((a) => `${a.node}:${a.entry.presignature}`);

describe.each(['ecdsa-secp256k1', 'eddsa-ed25519', 'schnorr-bip340'] as const)('presignatures: %s', (scheme) => {
  it('a warm pool signs in one flight with 2 of 3 nodes; the signature verifies; a path signs in full until it is asked for again, then gets its pool', async () => {
    const { c, key } = await warmCluster(scheme);
    const message = messageFor(scheme, 'warm');
    const res = await c.engine.sign(key.id, { message }, ctx());
    expect(counts.hit).toBe(1);
    expect(res.signers).toHaveLength(2);
    expect(schemeOf(scheme).verify(Buffer.from(res.publicKey, 'hex'), message, Buffer.from(res.signature, 'hex'), res.recoveryId)).toBe(true);
    // Both signers used the same presignature once and hold one fewer.
    expect(usedPresignatures(c)).toHaveLength(2);
    // A derived child has no pool: signed in full; a one-off child never gets one, a child asked
    // for again does, for the requests after.
    const child = await c.engine.sign(key.id, { message, derivationPath: 'm/7' }, ctx());
    expect(counts.miss).toBe(1);
    expect(schemeOf(scheme).verify(Buffer.from(child.publicKey, 'hex'), message, Buffer.from(child.signature, 'hex'), child.recoveryId)).toBe(true);
    expect(c.engine.presignPoolSize({ keyId: key.id, derivationPath: 'm/7' })).toBe(0);
    await c.engine.sign(key.id, { message: messageFor(scheme, 'child again'), derivationPath: 'm/7' }, ctx());
    expect(counts.miss).toBe(2);
    await until('the child\'s pool', () => c.engine.presignPoolSize({ keyId: key.id, derivationPath: 'm/7' }) === 4, { within: 20_000 });
    const again = await c.engine.sign(key.id, { message: messageFor(scheme, 'child, warm'), derivationPath: 'm/7' }, ctx());
    expect(counts.hit).toBe(2);
    expect(again.publicKey).toBe(child.publicKey);
  });

  it('a rogue coordinator naming a used presignature again, or in two sessions at once, gets at most one use', async () => {
    const { c, key } = await warmCluster(scheme, 2);
    const [first, second] = presignaturesMade(c);
    // Once, legitimately.
    const once = forgedSign(c, key, { message: messageFor(scheme, 'once') as Bytes, signers: first!.signers, presignature: [first!.ref] });
    for (const n of first!.signers) c.sendAsCoordinator(n, once.message);
    expect((await reportOf(c, first!.signers[0]!, once.session)).type).toBe('sign_done');
    // Again, with another message: every signer refuses.
    const twice = forgedSign(c, key, { message: messageFor(scheme, 'twice') as Bytes, signers: first!.signers, presignature: [first!.ref] });
    for (const n of first!.signers) c.sendAsCoordinator(n, twice.message);
    for (const n of first!.signers) expect(await reportOf(c, n, twice.session)).toMatchObject({ type: 'failed', code: 'presignature_unavailable' });
    // Two sessions at once over one presignature: no signer serves both.
    const a = forgedSign(c, key, { message: messageFor(scheme, 'a') as Bytes, signers: second!.signers, presignature: [second!.ref] });
    const b = forgedSign(c, key, { message: messageFor(scheme, 'b') as Bytes, signers: second!.signers, presignature: [second!.ref] });
    for (const n of second!.signers) {
      c.sendAsCoordinator(n, a.message);
      c.sendAsCoordinator(n, b.message);
    }
    // Each signer refuses one of the two (whichever came second to it), for good.
    const reportsOn = (n: number, s: Bytes) => c.reports.filter((r) => r.from === n && 'session' in r.report && Buffer.from(r.report.session).equals(s)).map((r) => r.report);
    await until('every signer to refuse one session', () => second!.signers.every((n) => [a.session, b.session].some((s) => reportsOn(n, s).some((r) => r.type === 'failed' && r.code === 'presignature_unavailable'))), { within: 20_000 });
    expect([a.session, b.session].flatMap((s) => reportsOn(second!.signers[0]!, s)).filter((r) => r.type === 'sign_done').length).toBeLessThanOrEqual(1);
    const used = usedPresignatures(c);
    expect(new Set(used).size).toBe(used.length);
  });

  it('a presignature never serves another signer set, and is gone after the attempt', async () => {
    const { c, key } = await warmCluster(scheme, 1);
    const [made] = presignaturesMade(c);
    const outsider = ([1, 2, 3] as PartyId[]).find((p) => !made!.signers.includes(p))!;
    const insider = made!.signers[0]!;
    const signers = [insider, outsider].sort((x, y) => x - y);
    const forged = forgedSign(c, key, { message: messageFor(scheme, 'other set') as Bytes, signers, presignature: [made!.ref] });
    for (const n of signers) c.sendAsCoordinator(n, forged.message);
    expect(await reportOf(c, insider, forged.session)).toMatchObject({ type: 'failed', code: 'presignature_unavailable' });
    expect(c.vaults.get(insider)!.presignatureCount(key.id)).toBe(0);
  });

  it('a presignature made for the root key cannot be aimed at a derived child: every signer refuses it and it is gone', async () => {
    const { c, key } = await warmCluster(scheme, 1);
    const [made] = presignaturesMade(c);
    const forged = forgedSign(c, key, { message: messageFor(scheme, 'aimed at a child') as Bytes, signers: made!.signers, derivationPath: 'm/5', presignature: [made!.ref] });
    for (const n of made!.signers) c.sendAsCoordinator(n, forged.message);
    for (const n of made!.signers) {
      expect(await reportOf(c, n, forged.session)).toMatchObject({ type: 'failed', code: 'presignature_unavailable', reason: expect.stringMatching(/another signing key/) });
      expect(c.vaults.get(n)!.presignatureCount(key.id)).toBe(0);
    }
  });

  it('refresh with a full pool voids every presignature; a restarted node holds none; signing goes on', async () => {
    const { c, key } = await warmCluster(scheme, 3);
    const before = presignaturesMade(c);
    const refreshed = await c.engine.refreshKey(key.id, ctx(60_000));
    for (const { ref, signers } of before) {
      const forged = forgedSign(c, refreshed, { message: messageFor(scheme, 'old epoch') as Bytes, signers, presignature: [ref] });
      for (const n of signers) c.sendAsCoordinator(n, forged.message);
      for (const n of signers) expect(await reportOf(c, n, forged.session)).toMatchObject({ type: 'failed', code: 'presignature_unavailable' });
    }
    // The pool refills at the new epoch; then node processes restart and lose theirs.
    await until('a refilled pool', () => c.engine.presignPoolSize({ keyId: key.id, derivationPath: '' }) === 3, { within: 20_000 });
    const sinceRefresh = presignaturesMade(c).filter((p) => !before.some((b) => Buffer.from(b.ref.session).equals(Buffer.from(p.ref.session))));
    for (const n of [1, 2, 3]) c.restartProcess(n);
    for (const n of [1, 2, 3]) expect(c.vaults.get(n)!.presignatureCount()).toBe(0);
    const { ref, signers } = sinceRefresh[0]!;
    const forged = forgedSign(c, refreshed, { message: messageFor(scheme, 'after restart') as Bytes, signers, presignature: [ref] });
    for (const n of signers) c.sendAsCoordinator(n, forged.message);
    for (const n of signers) expect(await reportOf(c, n, forged.session)).toMatchObject({ type: 'failed', code: 'presignature_unavailable' });
    // The engine's pool still lists presignatures the nodes lost: the first attempt fails, the retry signs in full.
    const message = messageFor(scheme, 'fallback');
    const res = await c.engine.sign(key.id, { message }, ctx());
    expect(schemeOf(scheme).verify(Buffer.from(res.publicKey, 'hex'), message, Buffer.from(res.signature, 'hex'), res.recoveryId)).toBe(true);
    const used = usedPresignatures(c);
    expect(new Set(used).size).toBe(used.length);
  });
});

describe('ECDSA presignatures made several to a session', () => {
  it('a pool of 16 is filled four to a presigning session; each presignature signs once and verifies; one named again is refused', async () => {
    const { c, key } = await warmCluster('ecdsa-secp256k1', 16);
    const sessions = new Set(c.reports.filter((r) => r.report.type === 'presign_done').map((r) => Buffer.from((r.report as { session: Uint8Array }).session).toString('hex')));
    expect(sessions.size).toBe(4);
    for (let i = 0; i < 6; i++) {
      const message = messageFor('ecdsa-secp256k1', `batch ${i}`);
      const res = await c.engine.sign(key.id, { message }, ctx());
      expect(schemeOf('ecdsa-secp256k1').verify(Buffer.from(res.publicKey, 'hex'), message, Buffer.from(res.signature, 'hex'), res.recoveryId)).toBe(true);
    }
    expect(counts.hit).toBe(6);
    const used = c.audits.filter((a) => a.entry.event === 'sign' && a.entry.outcome === 'completed' && a.entry.presignature);
    expect(new Set(used.map((a) => `${a.node}:${a.entry.presignature}`)).size).toBe(used.length);
    // Presignatures other than a session's first were used (ids are session.index).
    expect(used.some((a) => !a.entry.presignature!.endsWith('.0'))).toBe(true);
    // A rogue coordinator names one of them again, with another message: every signer refuses.
    const { presignature, signers } = used.find((a) => !a.entry.presignature!.endsWith('.0'))!.entry;
    const [session, index] = presignature!.split('.');
    const ref: PresignatureRef = { session: Buffer.from(session!, 'hex') as Bytes, index: Number(index), commitments: [] };
    const again = forgedSign(c, key, { message: messageFor('ecdsa-secp256k1', 'again') as Bytes, signers: signers as PartyId[], presignature: [ref] });
    for (const n of signers!) c.sendAsCoordinator(n, again.message);
    for (const n of signers!) expect(await reportOf(c, n, again.session)).toMatchObject({ type: 'failed', code: 'presignature_unavailable' });
  });
});

describe('presignature pools: what the pool-low alert reads', () => {
  it('a pool counts as low while it cannot refill, and no longer once it has; a one-off child never counts', async () => {
    const c = await MemoryCluster.create({ nodes: 3, engine: { presign: { size: 4, lowWater: 4 }, attemptTimeoutMs: 1000 } });
    cluster = c;
    await c.settle();
    const key = await c.engine.createKey({ scheme: 'eddsa-ed25519', nodes: [1, 2, 3], threshold: 2 }, ctx(60_000));
    await until('a full pool', () => c.engine.presignPoolSize({ keyId: key.id, derivationPath: '' }) === 4, { within: 20_000 });
    const stats = () => c.engine.presignPoolStats().get('eddsa-ed25519');
    expect(stats()).toEqual({ held: 4, low: 0 });
    // A child asked for once has a pool that wants nothing: not low.
    await c.engine.sign(key.id, { message: messageFor('eddsa-ed25519', 'one-off'), derivationPath: 'm/3' }, ctx());
    expect(stats()).toEqual({ held: 4, low: 0 });
    // The nodes never see a presign command: the root pool, drawn from, stays below its mark.
    const dropped = new Set<string>();
    c.setLink((from, _to, m) => {
      if (from !== 'coordinator' || m.type !== 'presign') return [0];
      dropped.add(Buffer.from(m.request).toString('hex'));
      return [];
    });
    await c.engine.sign(key.id, { message: messageFor('eddsa-ed25519', 'draws one') }, ctx());
    expect(stats()).toEqual({ held: 3, low: 1 });
    await until('a refill that failed and was tried again', () => dropped.size >= 2, { within: 30_000 });
    expect(stats()).toEqual({ held: 3, low: 1 });
    c.setLink(undefined);
    await until('the refill after the back-off', () => stats()?.low === 0, { within: 30_000 });
    expect(stats()?.held).toBe(4);
  });
});
