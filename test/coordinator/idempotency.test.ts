/** The durable idempotency store on real LevelDB: records survive a restart; a request a crash interrupted is never run twice. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdempotencyStore } from '../../coordinator/api/idempotency.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idem-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('idempotency store (LevelDB)', () => {
  it('a completed outcome survives a restart; a request interrupted by a crash answers "outcome unknown", not a second run', async () => {
    const scope = IdempotencyStore.scope('token-a', 'POST', '/v1/keys/k1/sign', 'key-1');
    let store = await IdempotencyStore.open(dir);
    const response = await store.execute(scope, 'h1', async () => ({ status: 200, body: { signature: 'aa' } }));
    expect(response.status).toBe(200);
    await store.close();
    store = await IdempotencyStore.open(dir);
    expect(await store.lookup(scope, 'h1')).toEqual({ kind: 'done', response: { status: 200, body: { signature: 'aa' } } });
    expect((await store.lookup(scope, 'h2')).kind).toBe('conflict');
    expect((await store.lookup(IdempotencyStore.scope('token-b', 'POST', '/v1/keys/k1/sign', 'key-1'), 'h1')).kind).toBe('new');
    // The process dies while the second request is running: its marker is already on disk.
    const interrupted = IdempotencyStore.scope('token-a', 'POST', '/v1/keys/k1/sign', 'key-2');
    let crash!: () => void;
    const running = store.execute(interrupted, 'h3', async () => {
      await store.close(); // the crash: the store goes away with the marker written
      await new Promise<void>((r) => (crash = r));
      throw new Error('process died');
    });
    await expect.poll(() => crash).toBeTypeOf('function');
    crash();
    await expect(running).rejects.toThrow('process died');
    store = await IdempotencyStore.open(dir);
    expect((await store.lookup(interrupted, 'h3')).kind).toBe('unknown_outcome');
    await store.close();
  });

  it('errors leave no record; records expire by time, not by count', async () => {
    const store = await IdempotencyStore.open(dir, 50);
    const scope = IdempotencyStore.scope('t', 'POST', '/v1/keys', 'k');
    await store.execute(scope, 'h', async () => ({ status: 429, body: {} }));
    expect((await store.lookup(scope, 'h')).kind).toBe('new');
    await store.execute(scope, 'h', async () => ({ status: 201, body: { id: 'x' } }));
    expect((await store.lookup(scope, 'h')).kind).toBe('done');
    await expect.poll(async () => (await store.lookup(scope, 'h')).kind, { timeout: 5000 }).toBe('new');
    await store.close();
  });
});
