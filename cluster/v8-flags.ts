/**
 * The V8 flags a member process (coordinator or node) starts with, from `MPC_V8_GC`:
 *
 * - `auto` (default): one garbage-collection thread on a machine with fewer than 4 cores,
 *   V8's parallel and concurrent collector otherwise;
 * - `single-threaded`: `--single-threaded-gc` whatever the machine;
 * - `parallel`: V8's default.
 *
 * On a small machine the members share a couple of cores, and V8's helper threads for
 * scavenging, marking and sweeping cost more CPU in thread wake-ups and hand-offs than they save:
 * on 2 cores, `bench:cluster`'s warm Ed25519 load spent 7.6–8.3 ms of CPU per signature with one
 * GC thread against 9.8–10.3 ms with V8's default, alternating runs. The flag must be on the
 * command line: NODE_OPTIONS refuses it and `v8.setFlagsFromString` comes after the heap is set
 * up. The local launcher (coordinator/cluster.ts) and the process-backed simulations apply this
 * rule; the container image applies the same rule in docker/entrypoint.sh.
 */
import { availableParallelism } from 'node:os';

export type GcMode = 'auto' | 'single-threaded' | 'parallel';

const MODES: readonly GcMode[] = ['auto', 'single-threaded', 'parallel'];

/** Fewer cores than this: one GC thread under `auto`. */
export const PARALLEL_GC_MIN_CORES = 4;

/** The mode `MPC_V8_GC` names (unset: `auto`); throws on anything else. */
export function gcModeOf(value: string | undefined = process.env.MPC_V8_GC): GcMode {
  if (value === undefined || value === '') return 'auto';
  if ((MODES as readonly string[]).includes(value)) return value as GcMode;
  throw new Error(`MPC_V8_GC must be one of ${MODES.join(', ')}, not ${JSON.stringify(value)}`);
}

/** The flags to put before the script on a member's command line. */
export function memberV8Flags(mode: GcMode = gcModeOf(), cores: number = availableParallelism()): string[] {
  const single = mode === 'single-threaded' || (mode === 'auto' && cores < PARALLEL_GC_MIN_CORES);
  return single ? ['--single-threaded-gc'] : [];
}
