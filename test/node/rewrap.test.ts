import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initCluster } from '../../coordinator/cluster-init.ts';
import { Ed25519IdentitySigner, loadIdentity } from '../../cluster/identity.ts';
import { identityFile, rewrapNode } from '../../node/main.ts';
import { createProtector } from '../../cluster/providers/index.ts';
import { ShareStore } from '../../node/store/share-store.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import { ProviderError } from '../../cluster/providers/types.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rewrap-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('mpc rewrap', () => {
  it('moves the store and the identity to a new provider key and points the config at it', async () => {
    const layout = await initCluster({ dataDir: dir, nodes: 2, threshold: 2, port: 19000, apiToken: 'x'.repeat(20) });
    const node = layout.members.find((m) => m.id === 'node-1')!;
    const config = JSON.parse(await readFile(node.config, 'utf8')) as { provider: { type: string } & Record<string, unknown>; dataDir: string };
    const oldProtector = await createProtector(config.provider);
    const store = await ShareStore.open({ dataDir: config.dataDir, nodeId: 'node-1', protector: oldProtector });
    await store.saveShare({ keyId: 'k', scheme: 'eddsa-ed25519', threshold: 2, parties: [1, 2] as PartyId[], groupKey: new Uint8Array(32), chainCode: new Uint8Array(32) }, new Uint8Array(32).fill(6));
    await store.close();
    const before = await loadIdentity(identityFile(config.dataDir), 'node-1', oldProtector);

    const next = { type: 'local', keyFile: join(dir, 'new-kek.hex') };
    await writeFile(join(dir, 'next.json'), JSON.stringify(next));
    expect(await rewrapNode(node.config, join(dir, 'next.json'))).toEqual({ dataKeys: 1 });
    expect(await rewrapNode(node.config, join(dir, 'next.json'))).toEqual({ dataKeys: 0 }); // re-runnable

    expect(JSON.parse(await readFile(node.config, 'utf8')).provider).toEqual(next);
    const newProtector = await createProtector(next);
    const after = await loadIdentity(identityFile(config.dataDir), 'node-1', newProtector);
    expect(Buffer.from(after.publicKey)).toEqual(Buffer.from(before.publicKey));
    // The identity as an IdentitySigner: the same key signs and verifies across the rotation.
    const signer = new Ed25519IdentitySigner(after);
    const msg = new TextEncoder().encode('identity');
    expect(await new Ed25519IdentitySigner(before).verify(msg, await signer.sign(msg))).toBe(true);
    expect(await signer.verify(new TextEncoder().encode('other'), await signer.sign(msg))).toBe(false);
    expect(Buffer.from(await signer.publicKey())).toEqual(Buffer.from(before.publicKey));
    await expect(loadIdentity(identityFile(config.dataDir), 'node-1', oldProtector)).rejects.toThrow(ProviderError);
    const reopened = await ShareStore.open({ dataDir: config.dataDir, nodeId: 'node-1', protector: newProtector });
    expect((await reopened.loadShare('k'))!.share.every((b) => b === 6)).toBe(true);
    await reopened.close();
  });
});
