/** Timing helpers shared by every benchmark: run a function repeatedly, report median and p99. */
import { performance } from 'node:perf_hooks';

export interface Stats {
  readonly name: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly p99Ms: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

export function summarize(name: string, samplesMs: number[]): Stats {
  const s = [...samplesMs].sort((a, b) => a - b);
  return { name, runs: s.length, medianMs: quantile(s, 0.5), p99Ms: quantile(s, 0.99) };
}

/** Times `fn` `runs` times after `warmup` untimed runs. */
export async function measure(name: string, fn: () => unknown, runs: number, warmup = Math.min(3, runs)): Promise<Stats> {
  return measurePrepared(name, () => undefined, fn, runs, warmup);
}

/** Times `fn(prepare())` `runs` times after `warmup` untimed runs; `prepare` is not timed (work done ahead). */
export async function measurePrepared<T>(name: string, prepare: () => T, fn: (ready: T) => unknown, runs: number, warmup = Math.min(3, runs)): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await fn(prepare());
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ready = prepare();
    const t0 = performance.now();
    await fn(ready);
    samples.push(performance.now() - t0);
  }
  return summarize(name, samples);
}

export function printTable(title: string, rows: readonly (Stats & { note?: string })[]): void {
  console.log(`\n## ${title}`);
  console.log('| operation | runs | median ms | p99 ms | note |');
  console.log('|---|---:|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.runs} | ${r.medianMs.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.note ?? ''} |`);
}
