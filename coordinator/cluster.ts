/**
 * `npm start`: a local cluster on embedded defaults — a coordinator (HTTP on 7700) and 3 node
 * processes (2-of-3) on loopback with the `local` provider, data under `.mpc/dev`. The first
 * start initialises every member (identity keys, configs, the cluster manifest, an API token);
 * later starts reuse them, so keys survive restarts.
 *
 *   npm start -- --nodes 5 --threshold 3 --port 7700 --data-dir .mpc/five
 *
 * `--presignatures N` (default 16; 0: off) and `--presign-low-water M` (default N/2) set the
 * coordinator's pools per signing key when the cluster is first created; later edit
 * `presignatures` in coordinator/coordinator.json. `--protocol-workers N|auto` (default auto) sets
 * each node's protocol worker threads the same way (`protocolWorkers` in node-<i>/node.json).
 * `MPC_V8_GC=auto|single-threaded|parallel` (default auto: one GC thread on fewer than 4 cores)
 * picks the members' garbage collector (cluster/v8-flags.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initCluster, type ClusterLayout } from './cluster-init.ts';
import { writeAtomically } from '../cluster/atomic-file.ts';
import { gcModeOf, memberV8Flags } from '../cluster/v8-flags.ts';

const ROOT = resolve(import.meta.dirname, '..');

interface ProcessEntry {
  readonly role: 'coordinator' | 'node';
  readonly id: string;
  readonly pid: number;
  readonly address: string;
  readonly http?: string;
  readonly config: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      threshold: { type: 'string' },
      port: { type: 'string', default: process.env.MPC_PORT ?? '7700' },
      'data-dir': { type: 'string', default: '.mpc/dev' },
      'log-level': { type: 'string', default: 'info' },
      'pq-identity': { type: 'boolean', default: false },
      presignatures: { type: 'string', default: '16' },
      'presign-low-water': { type: 'string' },
      'protocol-workers': { type: 'string', default: 'auto' },
    },
  });
  const nodes = Number(values.nodes);
  const port = Number(values.port);
  const threshold = values.threshold === undefined ? Math.floor(nodes / 2) + 1 : Number(values.threshold);
  if (!Number.isInteger(nodes) || nodes < 2 || nodes > 64) fail('--nodes must be an integer in [2, 64]');
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > nodes) fail(`--threshold must be an integer in [2, ${nodes}]`);
  if (!Number.isInteger(port) || port < 1 || port > 65535 - 200) fail('--port must be a TCP port');
  const presignatures = Number(values.presignatures);
  if (!Number.isInteger(presignatures) || presignatures < 0 || presignatures > 128) fail('--presignatures must be an integer in [0, 128]');
  const lowWater = values['presign-low-water'] === undefined ? undefined : Number(values['presign-low-water']);
  if (lowWater !== undefined && (!Number.isInteger(lowWater) || lowWater < 0 || lowWater > presignatures)) fail('--presign-low-water must be an integer in [0, --presignatures]');
  const workers = values['protocol-workers'] === 'auto' ? 'auto' : Number(values['protocol-workers']);
  if (workers !== 'auto' && (!Number.isInteger(workers) || workers < 0 || workers > 64)) fail('--protocol-workers must be auto or an integer in [0, 64]');
  try {
    gcModeOf();
  } catch (e) {
    fail((e as Error).message);
  }
  const dataDir = resolve(values['data-dir']);

  const layout = await initCluster({ dataDir, nodes, threshold, port, apiToken: process.env.MPC_API_TOKEN, pqIdentity: values['pq-identity'] ?? false, presignatures: { size: presignatures, ...(lowWater === undefined ? {} : { lowWater }) }, protocolWorkers: workers });
  if (layout.generatedToken) {
    console.log(`API token (printed once; also stored in ${layout.tokenFile}):\n  ${layout.generatedToken}\n`);
  }
  const children = await startAll(layout, values['log-level']!);
  const processes: ProcessEntry[] = children.map((c) => ({ role: c.role, id: c.id, pid: c.child.pid!, address: c.address, config: c.config, ...(c.http ? { http: c.http } : {}) }));
  await writeAtomically(join(dataDir, 'cluster.json'), JSON.stringify({ dataDir, threshold: layout.threshold, processes }, null, 2) + '\n');

  // Before waiting for health: a SIGTERM during start-up must stop the children too.
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) c.child.kill(signal === 'SIGINT' ? 'SIGTERM' : signal);
    await Promise.all(children.map((c) => (c.child.exitCode === null ? new Promise((r) => c.child.once('exit', r)) : undefined)));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const base = `http://127.0.0.1:${layout.port}`;
  await waitForHealth(base, 30_000).catch(() => console.error(`the coordinator at ${base} is not healthy yet; see ${join(dataDir, 'logs')}`));
  console.log(`cluster up: coordinator ${base}, ${layout.nodes} nodes (default threshold ${layout.threshold}), data in ${dataDir}`);
  console.log(`processes in ${join(dataDir, 'cluster.json')}, logs in ${join(dataDir, 'logs')}; Ctrl-C stops everything`);
  for (const c of children) {
    c.child.on('exit', (code, signal) => {
      if (!stopping) console.error(`${c.id} exited (${signal ?? code}); restart it with: npx mpc start-${c.role} --config ${c.config}`);
    });
  }
}

interface Started {
  readonly role: 'coordinator' | 'node';
  readonly id: string;
  readonly address: string;
  readonly http?: string;
  readonly config: string;
  readonly child: ChildProcess;
}

async function startAll(layout: ClusterLayout, logLevel: string): Promise<Started[]> {
  const v8Flags = memberV8Flags();
  const logs = join(layout.dataDir, 'logs');
  await mkdir(logs, { recursive: true });
  const start = (role: 'coordinator' | 'node', id: string, config: string, address: string, http?: string): Started => {
    const out = createWriteStream(join(logs, `${id}.log`), { flags: 'a' });
    // Profiling: MPC_PROFILE_DIR: every member writes a V8 CPU profile there when it stops;
    // MPC_PERF_MAP=1: every member writes /tmp/perf-<pid>.map, which Linux perf reads to name
    // JavaScript frames (`perf record -g -p <pids>`).
    const profile = [
      ...(process.env.MPC_PERF_MAP === '1' ? ['--perf-basic-prof'] : []),
      ...(process.env.MPC_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.MPC_PROFILE_DIR, '--cpu-prof-name', `${id}.cpuprofile`] : []),
    ];
    const child = spawn(process.execPath, [...v8Flags, ...profile, join(ROOT, 'bin/mpc.ts'), `start-${role}`, '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Only the coordinator serves the API: nodes never see its token.
      env: { ...withoutApiToken(process.env), MPC_LOG_LEVEL: logLevel, ...(role === 'coordinator' && process.env.MPC_API_TOKEN ? { MPC_API_TOKEN: process.env.MPC_API_TOKEN } : {}) },
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    return { role, id, address, config, child, ...(http ? { http } : {}) };
  };
  const started = layout.members.map((m) => start(m.role, m.id, m.config, m.address, m.http));
  return started;
}

async function waitForHealth(base: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const res = await fetch(`${base}/v1/health`);
      const body = (await res.json()) as { status?: string };
      if (body.status === 'ok') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timeout');
}

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(2);
}

await main();

function withoutApiToken(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MPC_API_TOKEN: _, ...rest } = env;
  return rest;
}
