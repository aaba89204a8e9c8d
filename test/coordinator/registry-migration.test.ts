/**
 * Keys made before 0.2: a version-1 registry's BIP340 keys were stored as their BIP86 output
 * key (the DKG tweaked them). They keep signing as they did, report themselves as output keys
 * only, and refuse the Taproot option instead of tweaking a second time.
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
afterEach(() => cluster?.close());

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
  it('marks version-1 BIP340 keys output-only (and nothing else), and keeps the mark when it writes version 2', async () => {
    const { dir, registry } = await versionOneRegistry();
    expect(registry.get('old-taproot')!.taprootOutputOnly).toBe(true);
    expect(registry.get('old-ecdsa')!.taprootOutputOnly).toBeUndefined();
    await registry.put({ ...registry.get('old-ecdsa')!, status: 'disabled' });
    const written = JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8')) as { version: number; keys: KeyInfo[] };
    expect(written.version).toBe(2);
    expect(written.keys.find((k) => k.id === 'old-taproot')!.taprootOutputOnly).toBe(true);
    expect((await KeyRegistry.open(dir)).get('old-taproot')!.taprootOutputOnly).toBe(true);
  });

  it('an output-only key reports its stored key as the output key and address, with no internal key', async () => {
    const { registry } = await versionOneRegistry();
    const view = keyView(registry.get('old-taproot')!, 'mainnet');
    expect(view.taproot).toEqual({ outputKey: legacy.publicKey });
    expect(view.addresses.p2tr).toBe(p2trAddress(outputKey, 'mainnet'));
    // Not the double tweak a new key's BIP86 address would be.
    expect(view.addresses.p2tr).not.toBe(p2trAddress(taprootOutputKey(outputKey), 'mainnet'));
  });

  it('the engine refuses a Taproot option on an output-only key before any node is asked', async () => {
    const { registry } = await versionOneRegistry();
    cluster = await MemoryCluster.create({ nodes: 3, registry });
    cluster.recordReports = true;
    for (const taproot of [{}, { merkleRoot: new Uint8Array(32).fill(1) }]) {
      const refused = await cluster.engine.sign('old-taproot', { message: new Uint8Array(32), taproot }, { deadline: Date.now() + 5000, requestId: 't', emit: () => undefined }).catch((e: { code: string; message: string }) => e);
      expect(refused).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/made before 0\.2/) });
    }
    expect(cluster.reports).toEqual([]);
  });
});
