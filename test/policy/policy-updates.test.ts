/**
 * Policy versions on an in-memory cluster: only an administrator quorum makes one, only a newer
 * one replaces the version in force, and a sign request naming another version is refused by
 * every signer. The coordinator's identity is the attacker's here (`signAsCoordinator`,
 * `sendAsCoordinator`): nothing it sends changes a node's policy by itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SIGN_REQUEST_DEFAULTS, signRequestCodec, type NodeReport } from '../../cluster/control.ts';
import { policyHash, type Policy } from '../../cluster/policy/document.ts';
import { encodeCbor, type Bytes } from '../../protocol/core/codec.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import type { RequestContext } from '../../coordinator/service.ts';
import { MemoryCluster } from '../../simulations/memory-cluster.ts';
import { signedPolicy, testAdministrators, testSigner } from '../support/policy.ts';
import { until } from '../support/until.ts';

const ctx = (ms = 20_000): RequestContext => ({ deadline: Date.now() + ms, requestId: 'test', emit: () => undefined });
const allowAll = (version: number): Policy => ({ version, rules: [], default: 'allow' });

let cluster: MemoryCluster | undefined;
afterEach(() => cluster?.close());

const versions = async (c: MemoryCluster) => Promise.all([1, 2, 3].map(async (n) => (await c.vaults.get(n)!.policy.active()).version));

describe('policy versions', () => {
  it('need the administrators\' quorum: one signature, a stranger\'s, or the coordinator\'s own are refused by the API and by every node', async () => {
    const { admins, administrators } = testAdministrators(3, 2);
    cluster = await MemoryCluster.create({ nodes: 3, administrators });
    cluster.recordReports = true;
    cluster.recordAudits = true;
    await cluster.settle();
    const stranger = testSigner('admin-3'); // claims an administrator's name, with its own key

    const one = signedPolicy(allowAll(1), [admins[0]!]);
    await expect(cluster.engine.proposePolicy(one.document, one.signatures)).rejects.toMatchObject({ code: 'policy_invalid', message: expect.stringMatching(/needs 2 administrator signatures, has 1 valid/) });
    const forged = signedPolicy(allowAll(1), [admins[0]!, stranger]);
    await expect(cluster.engine.proposePolicy(forged.document, forged.signatures)).rejects.toMatchObject({ code: 'policy_invalid' });

    // The attacker holding the coordinator's identity sends them to the nodes directly.
    for (const p of [one, forged]) {
      for (const n of [1, 2, 3]) {
        cluster.sendAsCoordinator(n, { type: 'policy', nonce: randomBytes(16) as Bytes, document: p.document as Bytes, signatures: p.signatures.map((s) => ({ admin: s.admin, signature: s.signature as Bytes, mldsaSignature: new Uint8Array() as Bytes })) });
      }
    }
    await until('six policy status reports', () => cluster!.reports.filter((r) => r.report.type === 'policy_status').length === 6);
    for (const r of cluster.reports.filter((r) => r.report.type === 'policy_status')) {
      expect(r.report).toMatchObject({ version: 0, error: expect.stringMatching(/needs 2 administrator signatures/) });
    }
    expect(await versions(cluster)).toEqual([0, 0, 0]);
    // Each node wrote its refusals into its audit log.
    for (const n of [1, 2, 3]) expect(cluster.audits.filter((a) => a.node === n && a.entry.event === 'policy' && a.entry.outcome === 'refused')).toHaveLength(2);

    const two = signedPolicy(allowAll(1), admins.slice(1));
    const view = await cluster.engine.proposePolicy(two.document, two.signatures);
    expect(view).toMatchObject({ version: 1, hash: Buffer.from(policyHash(two.document)).toString('hex') });
    expect(view.nodes.map((n) => n.version)).toEqual([1, 1, 1]);
    expect(await versions(cluster)).toEqual([1, 1, 1]);
  });

  it('only move forward: an older or equal version is refused, and replaying an old signed version to the nodes changes nothing', async () => {
    const { admins, administrators } = testAdministrators(3, 2);
    cluster = await MemoryCluster.create({ nodes: 3, administrators });
    cluster.recordReports = true;
    await cluster.settle();
    const v1 = signedPolicy(allowAll(1), admins.slice(0, 2));
    const v2 = signedPolicy({ version: 2, rules: [{ name: 'frozen', deny: true }], default: 'deny' }, admins.slice(0, 2));
    await cluster.engine.proposePolicy(v1.document, v1.signatures);
    await cluster.engine.proposePolicy(v2.document, v2.signatures);
    await expect(cluster.engine.proposePolicy(v1.document, v1.signatures)).rejects.toMatchObject({ code: 'policy_invalid', message: expect.stringMatching(/not above the version in force \(2\)/) });
    const v2again = signedPolicy({ version: 2, rules: [], default: 'allow' }, admins.slice(0, 2));
    await expect(cluster.engine.proposePolicy(v2again.document, v2again.signatures)).rejects.toMatchObject({ code: 'policy_invalid' });
    cluster.reports.length = 0;
    for (const n of [1, 2, 3]) cluster.sendAsCoordinator(n, { type: 'policy', nonce: randomBytes(16) as Bytes, document: v1.document as Bytes, signatures: v1.signatures.map((s) => ({ admin: s.admin, signature: s.signature as Bytes, mldsaSignature: new Uint8Array() as Bytes })) });
    await until('three policy status reports', () => cluster!.reports.filter((r) => r.report.type === 'policy_status').length === 3);
    for (const r of cluster.reports) expect(r.report).toMatchObject({ type: 'policy_status', version: 2, error: expect.stringMatching(/not above the version in force \(2\)/) });
    expect(await versions(cluster)).toEqual([2, 2, 2]);
  });

  it('a node that was down when a version was applied gets it when it comes back, and signs again', async () => {
    const { admins, administrators } = testAdministrators(2, 2);
    cluster = await MemoryCluster.create({ nodes: 3, administrators });
    await cluster.settle();
    const key = await cluster.engine.createKey({ scheme: 'eddsa-ed25519', threshold: 3 }, ctx());
    cluster.crash(3);
    const v1 = signedPolicy(allowAll(1), admins);
    const view = await cluster.engine.proposePolicy(v1.document, v1.signatures);
    expect(view.nodes.map((n) => n.version)).toEqual([1, 1, undefined]);
    expect(await versions(cluster)).toEqual([1, 1, 0]);
    cluster.restart(3);
    await until('node 3 at policy version 1', async () => (await versions(cluster!))[2] === 1);
    // A 3-of-3 key needs node 3: it signs under version 1 with the others.
    expect((await cluster.engine.sign(key.id, { message: Buffer.from('back') }, ctx())).signers).toEqual([1, 2, 3]);
  });

  it('a sign request naming another policy version is refused by every signer before its share is used', async () => {
    const { admins, administrators } = testAdministrators(2, 2);
    cluster = await MemoryCluster.create({ nodes: 3, administrators });
    cluster.recordReports = true;
    await cluster.settle();
    const key = await cluster.engine.createKey({ scheme: 'ecdsa-secp256k1' }, ctx());
    const v1 = signedPolicy(allowAll(1), admins);
    await cluster.engine.proposePolicy(v1.document, v1.signatures);
    const digest = createHash('sha256').update('old policy').digest() as Bytes;
    expect((await cluster.engine.sign(key.id, { message: digest }, ctx())).signature).toMatch(/^[0-9a-f]{128}$/);
    // The attacker names version 0 (no policy): signers under different versions never combine.
    for (const hash of [SIGN_REQUEST_DEFAULTS.policyHash, createHash('sha256').update('made up').digest() as Bytes]) {
      const session = createHash('sha256').update(hash).digest() as Bytes;
      const request = encodeCbor(signRequestCodec, { ...SIGN_REQUEST_DEFAULTS, session, keyId: key.id, scheme: 'ecdsa-secp256k1', message: digest, epoch: 0, signers: [1, 2] as PartyId[], policyHash: hash }) as Bytes;
      for (const n of [1, 2]) cluster.sendAsCoordinator(n, { type: 'sign', request });
      const sessionHex = Buffer.from(session).toString('hex');
      const of = (r: { report: NodeReport }) => 'session' in r.report && Buffer.from(r.report.session).toString('hex') === sessionHex;
      await until('two reports of the update', () => cluster!.reports.filter(of).length === 2);
      for (const r of cluster.reports.filter(of)) expect(r.report).toMatchObject({ type: 'failed', code: 'policy_mismatch' });
    }
  });
});
