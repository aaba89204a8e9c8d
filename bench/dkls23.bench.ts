/**
 * DKLs23 threshold ECDSA: key generation and signing with every party in this process (total
 * CPU time of all parties), ours through the session layer (Party + driver + wire codec), signing
 * as nodes do (one aggregator combines and verifies),
 * beside @0xcarbon/dkls23-wasm (Rust DKLs23 compiled to WASM) doing the same operations in
 * the same run. Goals (issue #3): signing 2-of-3 ≤ 40 ms and 3-of-5 ≤ 100 ms, key generation
 * 2-of-3 ≤ 1 s and 3-of-5 ≤ 3 s, and faster than the WASM build.
 *
 * `DKLS_BENCH_RUNS=n` sets the signing runs (default 30); key generation runs a third of that
 * (at least 3): the WASM key generation takes seconds per run.
 */
import { createHash } from 'node:crypto';
import { dklsKeys, runDklsKeygen, runDklsPresign, runDklsSign, runDklsSignPresigned } from '../protocol/testing/dkls23.ts';
import { partyRange } from '../protocol/testing/frost.ts';
import { wasmKeygen, wasmSign } from './dkls23-wasm.ts';
import { measure, measurePrepared, printTable, type Stats } from './stats.ts';

const SIZES: [number, number][] = [
  [2, 3],
  [3, 5],
];
const digest = createHash('sha256').update('benchmark message').digest();

export async function run(): Promise<void> {
  const signRuns = Number(process.env.DKLS_BENCH_RUNS ?? 30);
  const keygenRuns = Math.max(3, Math.round(signRuns / 10));
  const rows: (Stats & { note?: string })[] = [];
  const ratio = (ours: Stats, theirs: Stats) => `${(ours.medianMs / theirs.medianMs).toFixed(2)}x of WASM`;
  for (const [t, n] of SIZES) {
    const ours = await measure(`keygen ${t}-of-${n}, ours`, () => {
      const { aborts } = runDklsKeygen(t, n);
      if (aborts.size) throw [...aborts.values()][0];
    }, keygenRuns, 1);
    const theirs = await measure(`keygen ${t}-of-${n}, dkls23-wasm`, () => wasmKeygen(t, n), keygenRuns, 1);
    rows.push({ ...ours, note: ratio(ours, theirs) }, theirs);
  }
  for (const [t, n] of SIZES) {
    const keys = dklsKeys(t, n);
    const wasmParties = wasmKeygen(t, n);
    const signers = partyRange(t);
    const ours = await measure(`sign ${t}-of-${n}, ours`, () => {
      const { aborts } = runDklsSign(keys, signers, digest, { aggregator: signers[0]! });
      if (aborts.size) throw [...aborts.values()][0];
    }, signRuns);
    const theirs = await measure(`sign ${t}-of-${n}, dkls23-wasm`, () => wasmSign(wasmParties, signers, digest), signRuns);
    rows.push({ ...ours, note: ratio(ours, theirs) }, theirs);
    // Presignatures: the message-independent rounds ahead, and the one flight a warm request costs.
    const presign = () => {
      const { outputs, aborts } = runDklsPresign(keys, signers);
      if (aborts.size) throw [...aborts.values()][0];
      return outputs;
    };
    const presigned = await measure(`presign ${t}-of-${n}, ours`, presign, signRuns);
    const online = await measurePrepared(`sign ${t}-of-${n} with a presignature (the one flight), ours`, presign, (ready) => {
      const { aborts } = runDklsSignPresigned(ready, digest, { aggregator: signers[0]! });
      if (aborts.size) throw [...aborts.values()][0];
    }, signRuns);
    rows.push(presigned, { ...online, note: 'presigning not timed' });
  }
  printTable('DKLs23 ECDSA (secp256k1), all parties in one process', rows);
}
