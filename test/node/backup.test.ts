import { describe, expect, it } from 'vitest';
import { combineSecret, splitSecret } from '../../node/backup.ts';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { PartyId } from '../../protocol/core/ids.ts';

describe('custodian shares (Shamir M-of-N)', () => {
  it('any M of N rebuild the backup key; fewer are refused; a forged share gives another key', () => {
    const secret = secp256k1.Point.Fn.toBytes(123456789n);
    const shares = splitSecret(secret, 3, 5);
    for (const pick of [[0, 1, 2], [0, 2, 4], [4, 3, 1], [1, 2, 3]]) {
      expect(Buffer.from(combineSecret(pick.map((i) => shares[i]!)))).toEqual(Buffer.from(secret));
    }
    expect(() => combineSecret([shares[0]!, shares[1]!])).toThrow(/need 3/);
    expect(() => combineSecret([shares[0]!, shares[0]!, shares[1]!])).toThrow(/need 3/);
    const forged = shares[2]!.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    expect(Buffer.from(combineSecret([shares[0]!, shares[1]!, forged]))).not.toEqual(Buffer.from(secret));
    expect(() => splitSecret(secret, 1, 5)).toThrow(/custodian threshold must satisfy 2 <= M <= N/);
  });
});

describe('backup contents', () => {
  it('a restored key keeps its label (policy rules select by it) and its custody', async () => {
    const { ShareStore } = await import('../../node/store/share-store.ts');
    const { MemoryBackend } = await import('../../node/store/backend.ts');
    const { ShareSealer } = await import('../../node/store/sealer.ts');
    const { MemoryProtector } = await import('../../simulations/memory-protector.ts');
    const { createBackup, openBackup } = await import('../../node/backup.ts');
    const store = new ShareStore({ backend: new MemoryBackend(), sealer: new ShareSealer(new MemoryProtector()), nodeId: 'node-1', cacheTtlMs: 0 });
    const custody = { minThreshold: 2, minParties: 3, members: [1, 2, 3] as PartyId[] };
    const key = { keyId: 'k1', scheme: 'eddsa-ed25519' as const, threshold: 2, parties: [1, 2, 3] as PartyId[], groupKey: new Uint8Array(32).fill(1), chainCode: new Uint8Array(32).fill(2), custody, label: 'treasury' };
    await store.saveShare(key, new Uint8Array(40).fill(3));
    const { label: _label, custody: _custody, ...bare } = key;
    await store.saveShare({ ...bare, keyId: 'k2' }, new Uint8Array(40).fill(4));
    const { file, custodianShares } = await createBackup(store, 'node-1', new Uint8Array(32).fill(5));
    const opened = openBackup(file, custodianShares.slice(0, 3));
    expect(opened.keys.find((k) => k.keyId === 'k1')).toMatchObject({ label: 'treasury', custody });
    const plain = opened.keys.find((k) => k.keyId === 'k2')!;
    expect('label' in plain || 'custody' in plain).toBe(false);
  });
});
