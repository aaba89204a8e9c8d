/**
 * Protocol worker threads (node/session/worker-pool.ts): how signing throughput scales with the
 * number of workers when the load keeps them busy. Each signature is one 2-of-3 session whose two
 * parties both run on the pool (their messages relayed on the main thread, as a node's network
 * code would), `WORKERS_BENCH_CONCURRENCY` sessions at a time (default 8) for
 * `WORKERS_BENCH_SECONDS` (default 5) per row. "main thread" is the same signing without workers:
 * both parties in this thread, one session after another (the in-process driver), which is all a
 * node without workers can do, whatever its cores.
 *
 *   npm run bench -- workers
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { PartyId, SessionId } from '../protocol/core/ids.ts';
import { schemeOf, type Scheme } from '../protocol/schemes/index.ts';
import { dklsKeys, runDklsSign } from '../protocol/testing/dkls23.ts';
import { outputsOrThrow } from '../protocol/testing/driver.ts';
import { frostKeys, runFrostSignCoordinated } from '../protocol/testing/frost.ts';
import { ProtocolWorkers } from '../node/session/worker-pool.ts';
import { signOnWorkers } from '../simulations/worker-sessions.ts';
import { summarize } from './stats.ts';

const SECONDS = Number(process.env.WORKERS_BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.WORKERS_BENCH_CONCURRENCY ?? 8);
const SIGNERS = [1, 2] as PartyId[];

interface Row {
  readonly workers: string;
  readonly perSecond: number;
  readonly medianMs: number;
  readonly p99Ms: number;
}

function keysFor(scheme: Scheme): ReadonlyMap<PartyId, unknown> {
  return scheme === 'ecdsa-secp256k1' ? dklsKeys(2, 3) : frostKeys('eddsa-ed25519', 2, 3);
}

async function onWorkers(scheme: Scheme, keys: ReadonlyMap<PartyId, unknown>, workers: number): Promise<Row> {
  const pool = new ProtocolWorkers(workers, () => undefined);
  const adapter = schemeOf(scheme).adapter;
  const message = randomBytes(32);
  const once = () => signOnWorkers(pool, scheme, new Map(SIGNERS.map((p) => [p, adapter.encode(keys.get(p))])), message, randomBytes(32).toString('hex') as SessionId);
  try {
    for (let i = 0; i < 2 * workers; i++) await once(); // warm the workers' code
    const samples: number[] = [];
    const end = performance.now() + SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await once();
          samples.push(performance.now() - t0);
        }
      }),
    );
    const s = summarize('', samples);
    return { workers: String(workers), perSecond: samples.length / ((performance.now() - started) / 1000), medianMs: s.medianMs, p99Ms: s.p99Ms };
  } finally {
    await pool.close();
  }
}

function onMainThread(scheme: Scheme, keys: ReadonlyMap<PartyId, unknown>): Row {
  const message = randomBytes(32);
  const sign = () =>
    scheme === 'ecdsa-secp256k1'
      ? outputsOrThrow(runDklsSign(keys as Parameters<typeof runDklsSign>[0], SIGNERS, message))
      : outputsOrThrow(runFrostSignCoordinated(keys as Parameters<typeof runFrostSignCoordinated>[0], SIGNERS, message));
  for (let i = 0; i < 3; i++) sign();
  const samples: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const started = performance.now();
  while (performance.now() < end) {
    const t0 = performance.now();
    sign();
    samples.push(performance.now() - t0);
  }
  const s = summarize('', samples);
  return { workers: 'main thread', perSecond: samples.length / ((performance.now() - started) / 1000), medianMs: s.medianMs, p99Ms: s.p99Ms };
}

export async function run(): Promise<void> {
  for (const scheme of ['ecdsa-secp256k1', 'eddsa-ed25519'] as const) {
    const keys = keysFor(scheme);
    const rows = [onMainThread(scheme, keys)];
    for (const workers of [1, 2]) rows.push(await onWorkers(scheme, keys, workers));
    console.log(`\n## protocol workers: ${scheme} 2-of-3 signing, both parties on the pool, ${CONCURRENCY} sessions at a time, ${SECONDS} s per row (${availableParallelism()} cores)`);
    console.log('| workers | signatures/s | median ms | p99 ms | vs 1 worker |');
    console.log('|---|---:|---:|---:|---:|');
    const one = rows[1]!.perSecond;
    for (const r of rows) console.log(`| ${r.workers} | ${r.perSecond.toFixed(1)} | ${r.medianMs.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${(r.perSecond / one).toFixed(2)}× |`);
  }
}
