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
  const never = async (): Promise<never> => {
    throw new Error('must not run again');
  };

  it('a completed outcome survives a restart; a request interrupted by a crash answers "outcome unknown", not a second run', async () => {
    const scope = IdempotencyStore.scope('owner-a', 'POST', '/v1/keys/k1/sign', 'key-1');
    let store = await IdempotencyStore.open(dir);
    expect(await store.once(scope, 'h1', async () => ({ status: 200, body: { signature: 'aa' } }))).toEqual({ kind: 'response', response: { status: 200, body: { signature: 'aa' } } });
    await store.close();
    store = await IdempotencyStore.open(dir);
    expect(await store.once(scope, 'h1', never)).toEqual({ kind: 'response', response: { status: 200, body: { signature: 'aa' } } });
    expect(await store.once(scope, 'h2', never)).toEqual({ kind: 'conflict' });
    // Another token's record under the same key is its own: it runs.
    const other = await store.once(IdempotencyStore.scope('owner-b', 'POST', '/v1/keys/k1/sign', 'key-1'), 'h1', async () => ({ status: 200, body: { signature: 'bb' } }));
    expect(other).toEqual({ kind: 'response', response: { status: 200, body: { signature: 'bb' } } });
    // The process dies while the second request is running: its marker is already on disk.
    const interrupted = IdempotencyStore.scope('owner-a', 'POST', '/v1/keys/k1/sign', 'key-2');
    let crash!: () => void;
    const running = store.once(interrupted, 'h3', async () => {
      await store.close(); // the crash: the store goes away with the marker written
      await new Promise<void>((r) => (crash = r));
      throw new Error('process died');
    });
    await expect.poll(() => crash).toBeTypeOf('function');
    crash();
    await expect(running).rejects.toThrow('process died');
    store = await IdempotencyStore.open(dir);
    expect(await store.once(interrupted, 'h3', never)).toEqual({ kind: 'unknown_outcome' });
    await store.close();
  });

  it('errors leave no record; records expire by time, not by count', async () => {
    const store = await IdempotencyStore.open(dir, 50);
    const scope = IdempotencyStore.scope('t', 'POST', '/v1/keys', 'k');
    let runs = 0;
    const answer = (status: number) => async () => (runs++, { status, body: { runs } });
    await store.once(scope, 'h', answer(429));
    await store.once(scope, 'h', answer(201));
    expect(runs).toBe(2); // the 429 was not kept
    expect(await store.once(scope, 'h', never)).toEqual({ kind: 'response', response: { status: 201, body: { runs: 2 } } });
    await expect.poll(async () => (await store.once(scope, 'h', answer(201)), runs), { timeout: 5000 }).toBeGreaterThan(2);
    await store.close();
  });
});

describe('idempotency store: concurrency', () => {
  it('two requests with one key at the same moment run the operation once; the second gets the first\'s answer', async () => {
    const store = await IdempotencyStore.open(dir);
    const scope = IdempotencyStore.scope('owner', 'POST', '/v1/keys/k1/sign', 'same');
    let runs = 0;
    const op = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 20));
      return { status: 200, body: { run: runs } };
    };
    const [a, b] = await Promise.all([store.once(scope, 'h', op), store.once(scope, 'h', op)]);
    expect(runs).toBe(1);
    expect(b).toEqual(a);
    // Another body under the same key while it runs, or after: a conflict, and no run.
    const c = store.once(scope, 'other', op);
    expect(await c).toEqual({ kind: 'conflict' });
    expect(runs).toBe(1);
    await store.close();
  });
});
