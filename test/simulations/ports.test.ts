/**
 * Ports for local clusters come from below the kernel's ephemeral range, so no outgoing
 * connection or `listen(0)` elsewhere can take one between its choice and its bind.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterPortSpan } from '../../coordinator/cluster-init.ts';
import { freeClusterPort, freePortBlock, freePorts } from '../../simulations/ports.ts';

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const hold = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const s = createServer().once('error', reject).listen(port, '127.0.0.1', () => resolve());
    held.push(s);
  });

describe('ports for local clusters', () => {
  it('a cluster block lies below the ephemeral range and every port in it can be bound', async () => {
    const base = await freeClusterPort(5);
    const span = clusterPortSpan(5);
    expect(base).toBeGreaterThanOrEqual(10_000);
    expect(base + span).toBeLessThanOrEqual(32_768);
    for (let p = base; p < base + span; p++) await hold(p);
  });

  it('skips a block with a port someone listens on', async () => {
    const [busy, free] = (await freePorts(2)) as [number, number];
    await hold(busy);
    const span = 3;
    const at = (base: number) => (base - 10_000 + 0.5) / (32_768 - 10_000 - span);
    const looks = [at(busy - 1), at(free)]; // the first block [busy-1, busy+1] holds the busy port
    expect(await freePortBlock(span, () => looks.shift()!)).toBe(free);
    expect(looks).toEqual([]);
  });

  it('hands out distinct ports, none of those already chosen', async () => {
    const chosen = await freePorts(3);
    const more = await freePorts(40, chosen);
    expect(new Set(more).size).toBe(40);
    for (const p of more) expect(chosen).not.toContain(p);
    await Promise.all(more.map(hold));
  });

  it('refuses a block that cannot exist', async () => {
    await expect(freePortBlock(0)).rejects.toThrow(RangeError);
    await expect(freePortBlock(40_000)).rejects.toThrow(RangeError);
  });
});
