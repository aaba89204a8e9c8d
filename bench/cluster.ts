/**
 * `npm run bench:cluster`: signing latency (median, p95, p99) and throughput through the HTTP
 * API of a real local cluster (coordinator + node processes on loopback), at concurrency 1, 8
 * and 32, for each scheme, 2-of-3 and 3-of-5; beside the in-process cost of the same protocol
 * measured in the same run, so the network overhead shows as a ratio.
 *
 * Each size runs twice: `cold`, a cluster without presignatures (every request signs in full),
 * and `warm`, one whose coordinator keeps a pool of `--pool` presignatures per key (low-water mark
 * a quarter of it). Warm first sends a `burst` of half the pool, one request at a time, from a full
 * pool: what a request sees while presignatures are ready and no refill competes for the cores
 * (after an unmeasured warm-up that drains and refills the pool WARM_UP_ROUNDS times, so a
 * fresh process's first, interpreted runs of the signing path are not what the burst measures).
 * Then the levels run as in cold: the pool drains and refills in the background meanwhile, so
 * their sig/s is sustained throughput with the making of the presignatures included (and full
 * signing whenever the pool runs dry).
 *
 *   npm run bench:cluster [-- --seconds 10 --schemes eddsa-ed25519,schnorr-bip340 --sizes 2-3,3-5 --modes cold,warm --pool 64 --protocol-workers 1]
 *
 * Requests go through the typed client without Idempotency-Keys, so the figures are the signing
 * path's alone (a key costs the coordinator two LevelDB writes per request).
 *
 * On Linux each row also gives the CPU one signature cost while the level ran (process-cpu.ts):
 * the coordinator's, all nodes' together, and this client's. On a shared host it moves less than
 * sig/s, which also counts the time processes wait for a core.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MpcApiError, MpcClient } from '../client/index.ts';
import type { Scheme } from '../protocol/schemes/index.ts';
import { inProcessSign } from './in-process.ts';
import { cpuPerSignature, cpuSnapshot, type CpuByRole } from './process-cpu.ts';
import { quantile } from './stats.ts';
import { freeClusterPort } from '../simulations/ports.ts';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    schemes: { type: 'string', default: 'eddsa-ed25519,schnorr-bip340,ecdsa-secp256k1' },
    sizes: { type: 'string', default: '2-3,3-5' },
    concurrency: { type: 'string', default: '1,8,32' },
    /** cold, warm (the burst and the sustained levels). */
    modes: { type: 'string', default: 'cold,warm' },
    pool: { type: 'string', default: '64' },
    /** Each node's protocol worker threads (auto: none on fewer than 4 cores). */
    'protocol-workers': { type: 'string', default: 'auto' },
  },
});
const seconds = Number(values.seconds);
const schemes = values.schemes!.split(',') as Scheme[];
const sizes = values.sizes!.split(',').map((s) => s.split('-').map(Number) as [number, number]);
const levels = values.concurrency!.split(',').map(Number);
const modes = values.modes!.split(',') as ('cold' | 'warm')[];
const poolSize = Number(values.pool);
/** Drain-and-refill rounds before a warm cluster's burst is measured. */
const WARM_UP_ROUNDS = 3;
const TOKEN = randomBytes(24).toString('hex');

interface Row {
  scheme: Scheme;
  size: string;
  mode: 'cold' | 'warm' | 'burst';
  concurrency: number;
  requests: number;
  errors: number;
  median: number;
  p95: number;
  p99: number;
  throughput: number;
  inProcessMedian: number;
  /** CPU ms per signature while the level ran, per role (Linux only). */
  cpuPerSignature?: CpuByRole & { readonly total: number };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const [t, n] of sizes) for (const mode of modes) {
    const dataDir = await mkdtemp(join(tmpdir(), 'mpc-bench-'));
    const port = await freeClusterPort(n);
    const client = new MpcClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN, retries: 0, idempotencyKeys: false });
    const launcher = spawn(process.execPath, [join(ROOT, 'coordinator/cluster.ts'), '--nodes', String(n), '--threshold', String(t), '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn', '--presignatures', String(mode === 'warm' ? poolSize : 0), '--presign-low-water', String(mode === 'warm' ? poolSize / 4 : 0), '--protocol-workers', values['protocol-workers']!], {
      stdio: 'ignore',
      env: { ...process.env, MPC_API_TOKEN: TOKEN },
    });
    try {
      await waitHealthy(client);
      const done: Scheme[] = [];
      for (const scheme of schemes) {
        // Before the key exists, so a warm cluster's first refill does not share the cores with it.
        const inProcess = await inProcessSign(scheme, t, n, 20);
        const key = await client.createKey({ scheme, threshold: t }).catch((e: MpcApiError) => e);
        if (key instanceof MpcApiError) {
          console.error(`${scheme} ${t}-of-${n}: key creation failed: ${key.code}: ${key.message}`);
          continue;
        }
        const report = (row: Row) => {
          rows.push(row);
          const cpu = row.cpuPerSignature;
          console.log(
            `${scheme.padEnd(16)} ${row.size} ${row.mode.padEnd(5)} c=${String(row.concurrency).padStart(2)}  ${String(row.requests).padStart(5)} req  ${row.errors} err  ` +
              `median ${row.median.toFixed(1)} ms  p95 ${row.p95.toFixed(1)}  p99 ${row.p99.toFixed(1)}  ${row.throughput.toFixed(1)} sig/s  ` +
              `(in-process ${inProcess.toFixed(1)} ms, x${(row.median / inProcess).toFixed(2)})` +
              (cpu ? `  cpu/sig ${cpu.total.toFixed(1)} ms (coordinator ${cpu.coordinator.toFixed(1)}, nodes ${cpu.nodes.toFixed(1)}, client ${cpu.client.toFixed(1)})` : ''),
          );
        };
        /** One level of load, with the CPU the cluster and this client spent on it. */
        const measured = async (concurrency: number, durationMs: number, count?: number) => {
          const before = await cpuSnapshot(launcher.pid!);
          const result = await load(client, scheme, key.id, concurrency, durationMs, count);
          const cpu = cpuPerSignature(before, await cpuSnapshot(launcher.pid!), result.requests - result.errors);
          return { ...result, ...(cpu ? { cpuPerSignature: cpu } : {}) };
        };
        if (mode === 'warm') {
          // Warm-up, not measured: from a full pool, enough requests to take it below its
          // low-water mark, so the signing path's code is compiled (a fresh process runs it
          // interpreted first) and the pool refills; WARM_UP_ROUNDS times, since one round left
          // whichever scheme ran first ~4–5 ms slower in its burst than the same scheme run
          // second. Then this key's pool full again, and no refill of an earlier key's sharing
          // the cores with the burst.
          for (let round = 0; round < WARM_UP_ROUNDS; round++) {
            await poolAtLeast(port, scheme, poolSize);
            await load(client, scheme, key.id, 1, 60_000, poolSize - poolSize / 4 + 1);
          }
          await poolAtLeast(port, scheme, poolSize, { settled: true });
          for (const s of done) await poolAtLeast(port, s, poolSize / 4, { settled: true });
          report({ scheme, size: `${t}-of-${n}`, mode: 'burst', concurrency: 1, ...(await measured(1, 60_000, poolSize / 2)), inProcessMedian: inProcess });
        }
        done.push(scheme);
        for (const concurrency of levels) {
          report({ scheme, size: `${t}-of-${n}`, mode, concurrency, ...(await measured(concurrency, seconds * 1000)), inProcessMedian: inProcess });
        }
      }
    } finally {
      launcher.kill('SIGTERM');
      await new Promise((r) => launcher.once('exit', r));
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  console.log('\n' + JSON.stringify(rows));
}

/** `concurrency` clients signing for `durationMs`, or until `count` requests were sent. */
async function load(client: MpcClient, scheme: Scheme, keyId: string, concurrency: number, durationMs: number, count = Infinity) {
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const end = Date.now() + durationMs;
  const started = Date.now();
  const worker = async () => {
    while (Date.now() < end && sent++ < count) {
      const message = scheme === 'eddsa-ed25519' ? randomBytes(64) : createHash('sha256').update(randomBytes(16)).digest();
      const t0 = performance.now();
      const signed = await client.sign(keyId, { message: message.toString('hex') }).then(
        () => true,
        () => false,
      );
      if (signed) latencies.push(performance.now() - t0);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (Date.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length + errors,
    errors,
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    throughput: latencies.length / elapsed,
  };
}

/**
 * Waits until the coordinator's pool for `scheme` holds at least `size` presignatures (its
 * /metrics); `settled`: and has not changed for a second (no refill in flight).
 */
async function poolAtLeast(port: number, scheme: Scheme, size: number, opts: { settled?: boolean } = {}): Promise<void> {
  const end = Date.now() + 120_000;
  const pattern = new RegExp(`^mpc_presign_pool_size\\{scheme="${scheme}"\\} (\\d+)`, 'm');
  const read = async () => Number(pattern.exec(await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text(), () => ''))?.[1] ?? 0);
  let last = -1;
  while (Date.now() < end) {
    const now = await read();
    if (now >= size && (!opts.settled || now === last)) return;
    last = now;
    await new Promise((r) => setTimeout(r, opts.settled ? 1000 : 200));
  }
  throw new Error(`the ${scheme} presignature pool did not reach ${size} (${last})`);
}

async function waitHealthy(client: MpcClient): Promise<void> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    if ((await client.health().catch(() => undefined))?.status === 'ok') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the benchmark cluster did not become healthy');
}

await main();
