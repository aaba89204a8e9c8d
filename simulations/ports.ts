/**
 * Ports for test and simulation clusters on 127.0.0.1.
 *
 * A port taken from the kernel with `listen(0)` and closed again is free only until the kernel
 * hands it out once more, and it does so for every outgoing connection (the local end) and every
 * other `listen(0)`: both draw from the ephemeral range (Linux: 32768-60999). With many test files
 * connecting at once, a port chosen that way was taken before the member bound it (EADDRINUSE).
 * Ports below the ephemeral range are never given out by the kernel, so only someone binding them
 * explicitly can take them: a random block there, checked free, is safe in practice.
 */
import { createServer } from 'node:net';
import { clusterPortSpan } from '../coordinator/cluster-init.ts';

const LOWEST = 10_000;
/** Linux's default ip_local_port_range starts here; macOS's and Windows' start at 49152. */
const EPHEMERAL_START = 32_768;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The first port of `span` consecutive ports, all free on 127.0.0.1 now and all below the
 * kernel's ephemeral range. A cluster's layout needs a block: its API on the base port, its
 * members at fixed offsets above it. `random` (in [0, 1)) picks where to look.
 */
export async function freePortBlock(span = 1, random: () => number = Math.random): Promise<number> {
  if (!Number.isInteger(span) || span < 1 || span > EPHEMERAL_START - LOWEST) throw new RangeError(`a block of ${span} ports`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = LOWEST + Math.floor(random() * (EPHEMERAL_START - LOWEST - span));
    let free = true;
    for (let p = base; p < base + span && free; p++) free = await bindable(p);
    if (free) return base;
  }
  throw new Error(`no block of ${span} free ports below ${EPHEMERAL_START} after 50 tries`);
}

/**
 * `count` distinct ports, each free now and below the ephemeral range (not necessarily
 * consecutive), none of them in `taken` (ports chosen earlier and not bound yet).
 */
export async function freePorts(count: number, taken: readonly number[] = []): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await freePortBlock(1);
    if (!taken.includes(port)) ports.add(port);
  }
  return [...ports];
}

/**
 * An API port for a local cluster (`coordinator/cluster.ts --port`) whose members, up to
 * `maxNodes` nodes (room for nodes added later), all find their ports free.
 */
export function freeClusterPort(maxNodes = 8): Promise<number> {
  return freePortBlock(clusterPortSpan(maxNodes));
}
