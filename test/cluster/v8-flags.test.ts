/**
 * The garbage collector members run with (cluster/v8-flags.ts): one GC thread on fewer than 4
 * cores under `auto`, either forced by MPC_V8_GC, anything else refused; and the container's
 * entry point (docker/entrypoint.sh) applies the same rule as the launcher, run for real under
 * /bin/sh with `node` and `nproc` stood in for.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gcModeOf, memberV8Flags, type GcMode } from '../../cluster/v8-flags.ts';

const ENTRYPOINT = resolve(import.meta.dirname, '../../docker/entrypoint.sh');

describe('members’ V8 garbage collector', () => {
  it('auto: one GC thread below 4 cores, the parallel collector from 4; forced modes whatever the cores', () => {
    expect([1, 2, 3, 4, 16].map((cores) => memberV8Flags('auto', cores))).toEqual([['--single-threaded-gc'], ['--single-threaded-gc'], ['--single-threaded-gc'], [], []]);
    expect([memberV8Flags('single-threaded', 64), memberV8Flags('parallel', 1)]).toEqual([['--single-threaded-gc'], []]);
  });

  it('MPC_V8_GC names the mode; unset or empty is auto; anything else is refused with the choices', () => {
    expect([gcModeOf(undefined), gcModeOf(''), gcModeOf('parallel'), gcModeOf('single-threaded')]).toEqual(['auto', 'auto', 'parallel', 'single-threaded']);
    expect(() => gcModeOf('single')).toThrow(/MPC_V8_GC must be one of auto, single-threaded, parallel, not "single"/);
  });

  describe('docker/entrypoint.sh', () => {
    let bin: string;
    beforeAll(async () => {
      bin = await mkdtemp(join(tmpdir(), 'entrypoint-'));
      // `node` prints what it was started with; `nproc` answers what CORES says.
      await writeFile(join(bin, 'node'), '#!/bin/sh\necho "$@"\n');
      await writeFile(join(bin, 'nproc'), '#!/bin/sh\necho "$CORES"\n');
      await chmod(join(bin, 'node'), 0o755);
      await chmod(join(bin, 'nproc'), 0o755);
    });
    afterAll(() => rm(bin, { recursive: true, force: true }));
    const run = (mode: string | undefined, cores: number) =>
      spawnSync('/bin/sh', [ENTRYPOINT, 'start-node', '--config', '/data/node-1/node.json'], {
        env: { PATH: `${bin}:${process.env.PATH}`, CORES: String(cores), ...(mode === undefined ? {} : { MPC_V8_GC: mode }) },
        encoding: 'utf8',
      });

    it('starts mpc with the flags the launcher would give, for every mode and core count', () => {
      for (const mode of [undefined, 'auto', 'single-threaded', 'parallel'] as const) {
        for (const cores of [1, 2, 3, 4, 8]) {
          const expected = [...memberV8Flags((mode ?? 'auto') as GcMode, cores), '/app/bin/mpc.ts', 'start-node', '--config', '/data/node-1/node.json'].join(' ');
          expect(run(mode, cores).stdout.trim(), `${mode} on ${cores} cores`).toBe(expected);
        }
      }
    });

    it('refuses an unknown mode, exit 2, without starting anything', () => {
      const refused = run('fast', 2);
      expect([refused.status, refused.stdout, refused.stderr.trim()]).toEqual([2, '', 'MPC_V8_GC must be one of auto, single-threaded, parallel, not "fast"']);
    });
  });
});
