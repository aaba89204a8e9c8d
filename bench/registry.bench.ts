/**
 * The coordinator's key registry (`npm run bench -- registry`): a synced LevelDB write per key,
 * so adding a key costs the same at the end of a long list as at its start (the earlier
 * keys.json was rewritten whole each time), and a page of 100 stays cheap.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KeyRegistry } from '../coordinator/registry.ts';
import type { KeyInfo } from '../coordinator/service.ts';
import { measure, printTable, summarize } from './stats.ts';

const N = 3000;

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'registry-bench-'));
  const registry = await KeyRegistry.open(dir);
  try {
    const times: number[] = [];
    for (let i = 0; i < N; i++) {
      const key: KeyInfo = {
        id: `key-${String(i).padStart(7, '0')}`,
        scheme: 'ecdsa-secp256k1',
        threshold: 2,
        nodes: [1, 2, 3],
        publicKey: '02' + 'ab'.repeat(32),
        chainCode: 'cd'.repeat(32),
        groupKey: '02' + 'ab'.repeat(32),
        createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
        status: 'active',
        epoch: 0,
        label: i % 10 === 0 ? 'tenth' : 'other',
      };
      const t0 = performance.now();
      await registry.put(key);
      times.push(performance.now() - t0);
    }
    let cursor: string | undefined;
    const rows = [
      summarize(`put, keys 1-300 of ${N}`, times.slice(0, 300)),
      summarize(`put, keys ${N - 299}-${N} of ${N}`, times.slice(-300)),
      await measure(`page of 100 (of ${N}), walking the cursor`, () => {
        const page = registry.page({ limit: 100, ...(cursor ? { cursor } : {}) });
        cursor = page.next;
      }, 200, 10),
      await measure(`page of 100 with a label (1 key in 10)`, () => registry.page({ limit: 100, label: 'tenth' }), 200, 10),
    ];
    printTable('Key registry (LevelDB, synced writes)', rows);
  } finally {
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  }
}
