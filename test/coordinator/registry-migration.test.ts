/**
 * Keys made before 0.2: a version-1 registry's BIP340 keys were stored as their BIP86 output
 * key (the DKG tweaked them). They keep signing as they did, report themselves as output keys
 * only, and refuse the Taproot option instead of tweaking a second time. The registry itself
 * moved from one keys.json to LevelDB records: an existing keys.json is imported once, whole.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { keyView } from '../../coordinator/key-view.ts';
import { KeyRegistry } from '../../coordinator/registry.ts';
import type { KeyInfo } from '../../coordinator/service.ts';
import { p2trAddress } from '../../protocol/schemes/addresses.ts';
import { taprootOutputKey } from '../../protocol/schemes/index.ts';
import { MemoryCluster } from '../../simulations/memory-cluster.ts';

let cluster: MemoryCluster | undefined;
const closeLater: KeyRegistry[] = [];
afterEach(async () => {
  cluster?.close();
  for (const r of closeLater.splice(0)) await r.close();
});

const outputKey = schnorr.getPublicKey(new Uint8Array(32).fill(7));
const legacy = {
  id: 'old-taproot',
  scheme: 'schnorr-bip340',
  threshold: 2,
  nodes: [1, 2, 3],
  publicKey: Buffer.from(outputKey).toString('hex'),
  chainCode: 'cc'.repeat(32),
  groupKey: `02${Buffer.from(outputKey).toString('hex')}`,
  xpub: 'xpub-as-version-1-stored-it',
  createdAt: '2026-01-01T00:00:00.000Z',
  status: 'active',
  epoch: 0,
};
const ecdsa = { ...legacy, id: 'old-ecdsa', scheme: 'ecdsa-secp256k1', publicKey: legacy.groupKey, createdAt: '2026-01-02T00:00:00.000Z' };

async function versionOneRegistry(): Promise<{ dir: string; registry: KeyRegistry }> {
  const dir = await mkdtemp(join(tmpdir(), 'registry-v1-'));
  await writeFile(join(dir, 'keys.json'), JSON.stringify({ version: 1, keys: [legacy, ecdsa] }));
  return { dir, registry: await KeyRegistry.open(dir) };
}

describe('registry version 1 → 2', () => {
  it('imports a version-1 keys.json once: BIP340 keys marked output-only (and nothing else), the file kept aside, the mark durable', async () => {
    const { dir, registry } = await versionOneRegistry();
    expect(registry.get('old-taproot')!.taprootOutputOnly).toBe(true);
    expect(registry.get('old-ecdsa')!.taprootOutputOnly).toBeUndefined();
    expect(registry.list().map((k) => k.id)).toEqual(['old-taproot', 'old-ecdsa']);
    await registry.put({ ...registry.get('old-ecdsa')!, status: 'disabled' });
    await registry.close();
    // The original is kept, unchanged, beside the new store; it is not imported again.
    expect(JSON.parse(await readFile(join(dir, 'keys.json.imported'), 'utf8'))).toEqual({ version: 1, keys: [legacy, ecdsa] });
    const reopened = await KeyRegistry.open(dir);
    expect(reopened.get('old-taproot')!.taprootOutputOnly).toBe(true);
    expect(reopened.get('old-ecdsa')!.status).toBe('disabled');
    await reopened.close();
  });

  it('pages in creation order with a cursor and a label filter, after deletes and restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'registry-'));
    const registry = await KeyRegistry.open(dir);
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    // Created out of order, two at the same instant (ordered by id then).
    for (const i of [5, 1, 3, 2, 4]) await registry.put({ ...ecdsa, id: `k${i}`, createdAt: at(i === 4 ? 3 : i), label: i % 2 ? 'odd' : 'even' } as KeyInfo);
    const ids = (keys: readonly KeyInfo[]) => keys.map((k) => k.id);
    expect(ids(registry.list())).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
    const first = registry.page({ limit: 2 });
    expect([ids(first.keys), typeof first.next]).toEqual([['k1', 'k2'], 'string']);
    const second = registry.page({ limit: 2, cursor: first.next! });
    expect(ids(second.keys)).toEqual(['k3', 'k4']);
    expect(registry.page({ limit: 2, cursor: second.next! })).toEqual({ keys: [expect.objectContaining({ id: 'k5' })] });
    expect(ids(registry.page({ limit: 10, label: 'odd' }).keys)).toEqual(['k1', 'k3', 'k5']);
    const oddFirst = registry.page({ limit: 2, label: 'odd' });
    expect(registry.page({ limit: 2, label: 'odd', cursor: oddFirst.next! })).toEqual({ keys: [expect.objectContaining({ id: 'k5' })] });
    expect(() => registry.page({ limit: 2, cursor: 'not-ours' })).toThrow(/cursor/);
    await registry.delete('k3');
    await registry.close();
    const reopened = await KeyRegistry.open(dir);
    expect(ids(reopened.list())).toEqual(['k1', 'k2', 'k4', 'k5']);
    await reopened.close();
  });

  it('an output-only key reports its stored key as the output key and address, with no internal key', async () => {
    const { registry } = await versionOneRegistry();
    await registry.close();
    const view = keyView(registry.get('old-taproot')!, 'mainnet');
    expect(view.taproot).toEqual({ outputKey: legacy.publicKey });
    expect(view.addresses.p2tr).toBe(p2trAddress(outputKey, 'mainnet'));
    // Not the double tweak a new key's BIP86 address would be.
    expect(view.addresses.p2tr).not.toBe(p2trAddress(taprootOutputKey(outputKey), 'mainnet'));
  });

  it('the engine refuses a Taproot option on an output-only key before any node is asked', async () => {
    const { registry } = await versionOneRegistry();
    closeLater.push(registry);
    cluster = await MemoryCluster.create({ nodes: 3, registry });
    cluster.recordReports = true;
    for (const taproot of [{}, { merkleRoot: new Uint8Array(32).fill(1) }]) {
      const refused = await cluster.engine.sign('old-taproot', { message: new Uint8Array(32), taproot }, { deadline: Date.now() + 5000, requestId: 't', emit: () => undefined }).catch((e: { code: string; message: string }) => e);
      expect(refused).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/made before 0\.2/) });
    }
    expect(cluster.reports).toEqual([]);
  });
});
