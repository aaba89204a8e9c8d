/**
 * The placement rule on an in-memory cluster: a committee in which one provider vendor would
 * protect a threshold of shares is refused at key generation (by the API, and by every node
 * when the attacker holding the coordinator's identity asks them directly) and at resharing,
 * and a node refuses a policy that misstates its own vendor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inferredCustody, keygenRequestCodec } from '../../cluster/control.ts';
import type { Policy } from '../../cluster/policy/document.ts';
import { encodeCbor, type Bytes } from '../../protocol/core/codec.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import type { RequestContext } from '../../coordinator/service.ts';
import { MemoryCluster } from '../../simulations/memory-cluster.ts';
import { signedPolicy, testAdministrators } from '../support/policy.ts';

const ctx = (ms = 20_000): RequestContext => ({ deadline: Date.now() + ms, requestId: 'test', emit: () => undefined });
let cluster: MemoryCluster | undefined;
afterEach(() => cluster?.close());

async function clusterUnder(vendors: Record<string, string>, allowSingleVendorQuorum?: boolean): Promise<MemoryCluster> {
  const { admins, administrators } = testAdministrators(2, 2);
  const c = await MemoryCluster.create({ nodes: 4, administrators });
  c.recordReports = true;
  await c.settle();
  const policy: Policy = { version: 1, rules: [], default: 'allow', placement: { vendors, ...(allowSingleVendorQuorum !== undefined ? { allowSingleVendorQuorum } : {}) } };
  const signed = signedPolicy(policy, admins);
  await c.engine.proposePolicy(signed.document, signed.signatures);
  return c;
}

describe('placement rule', () => {
  it('refuses a 2-of-3 key two of whose shares one vendor would protect, and allows a committee that spreads them', async () => {
    cluster = await clusterUnder({ '1': 'local', '2': 'local', '3': 'local:vault-b', '4': 'local:vault-c' });
    await expect(cluster.engine.createKey({ scheme: 'eddsa-ed25519', nodes: [1, 2, 3], threshold: 2 }, ctx())).rejects.toMatchObject({
      code: 'policy_denied',
      message: expect.stringMatching(/local would protect 2 shares \(nodes 1, 2\)/),
    });
    const spread = await cluster.engine.createKey({ scheme: 'eddsa-ed25519', nodes: [1, 3, 4], threshold: 2 }, ctx());
    expect(spread.nodes).toEqual([1, 3, 4]);
    // Resharing onto a committee the rule refuses is refused by the dealers and new holders.
    await expect(cluster.engine.reshareKey(spread.id, { nodes: [1, 2, 3], threshold: 2 }, ctx())).rejects.toMatchObject({ code: 'policy_denied', message: expect.stringMatching(/local would protect 2 shares/) });
    expect((await cluster.engine.getKey(spread.id))!.nodes).toEqual([1, 3, 4]);
  });

  it('every node refuses the committee itself when the attacker asks it directly, bypassing the coordinator\'s check', async () => {
    cluster = await clusterUnder({ '1': 'local', '2': 'local', '3': 'local', '4': 'local' });
    const session = new Uint8Array(32).fill(9) as Bytes;
    const parties = [1, 2, 3] as PartyId[];
    const request = encodeCbor(keygenRequestCodec, { session, keyId: 'forged', scheme: 'eddsa-ed25519', threshold: 2, parties, custody: inferredCustody(2, parties, [1, 2, 3, 4] as PartyId[]), label: '' }) as Bytes;
    for (const n of parties) cluster.sendAsCoordinator(n, { type: 'keygen', request });
    const of = () => cluster!.reports.filter((r) => r.report.type === 'failed' && Buffer.from(r.report.session).equals(session));
    for (let i = 0; of().length < 3 && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
    expect(of().map((r) => r.report)).toEqual(parties.map(() => expect.objectContaining({ code: 'policy_denied', reason: expect.stringMatching(/placement rule: local would protect 3 shares/) })));
    for (const n of parties) expect(await cluster.vaults.get(n)!.hasKey('forged')).toBe(false);
  });

  it('allowSingleVendorQuorum lets it through; a policy naming another vendor for a node makes that node refuse', async () => {
    cluster = await clusterUnder({ '1': 'aws', '2': 'local', '3': 'local', '4': 'local' }, true);
    expect((await cluster.engine.createKey({ scheme: 'eddsa-ed25519', nodes: [2, 3, 4], threshold: 2 }, ctx())).nodes).toEqual([2, 3, 4]);
    await expect(cluster.engine.createKey({ scheme: 'eddsa-ed25519', nodes: [1, 2, 3], threshold: 2 }, ctx())).rejects.toMatchObject({
      code: 'policy_denied',
      message: expect.stringMatching(/places node 1 with aws, but it seals its shares with local/),
    });
  });
});
