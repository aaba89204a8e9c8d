/**
 * The same DKLs23 operations in @0xcarbon/dkls23-wasm (Rust DKLs23 compiled to WASM), driven
 * in one process as the benchmark's baseline: its DKG phases 1–4 for every party, and its
 * signing phases 1–4 for a signer set. Its API takes and returns untyped JS values (serde);
 * the shapes below are what it accepts, found by calling it. Benchmark use only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import * as wasm from '@0xcarbon/dkls23-wasm/dkls23_wasm.js';

let ready = false;
function init(): void {
  if (ready) return;
  const path = createRequire(import.meta.url).resolve('@0xcarbon/dkls23-wasm/dkls23_wasm_bg.wasm');
  const log = console.log;
  console.log = () => {}; // the module logs its start-up
  try {
    wasm.initSync(readFileSync(path));
  } finally {
    console.log = log;
  }
  ready = true;
}

type Js = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the WASM API is untyped

const byReceiver = (msgs: Js[][], i: number): Js[] => msgs.flat().filter((m: Js) => m.parties.receiver === i);

/** Distributed key generation for all n parties; returns each party's state. */
export function wasmKeygen(t: number, n: number): Js[] {
  init();
  const sid = Array.from(randomBytes(32));
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const data = (i: number) => ({ parameters: { threshold: t, share_count: n }, party_index: i, session_id: sid });
  const p1 = ids.map((i) => wasm.phase1_wasm_binding(data(i)));
  const p2 = ids.map((i) => wasm.phase2_wasm_binding(data(i), p1.map((f: Js) => f[i - 1])));
  const p3 = ids.map((i, k) => wasm.phase3_wasm_binding(data(i), p2[k][2], p2[k][4]));
  const bip2 = new Map(p2.map((x: Js) => [x[5].sender_index, x[5]]));
  const bip3 = new Map(p3.map((x: Js) => [x[4].sender_index, x[4]]));
  return ids.map((i, k) => {
    const out = wasm.phase4_wasm_binding(
      data(i),
      p2[k][0],
      p2.map((x: Js) => x[1]),
      p3[k][0],
      byReceiver(p2.map((x: Js) => x[3]), i),
      byReceiver(p3.map((x: Js) => x[1]), i),
      p3[k][2],
      byReceiver(p3.map((x: Js) => x[3]), i),
      bip2,
      bip3,
    );
    if (!out.Ok) throw new Error(`dkls23-wasm keygen failed: ${JSON.stringify(out.Err ?? out)}`);
    return out.Ok;
  });
}

/** Signs a 32-byte digest with the parties `signers` (1-based indices); returns the 64-byte signature's parts. */
export function wasmSign(parties: Js[], signers: number[], digest: Uint8Array): Js {
  init();
  const signId = Array.from(randomBytes(32));
  const data = (i: number) => ({ sign_id: signId, counterparties: signers.filter((j) => j !== i), message_hash: Array.from(digest) });
  const party = (i: number) => parties[i - 1];
  const r1 = signers.map((i) => wasm.sign_phase1(party(i), data(i)));
  const r2 = signers.map((i, k) => wasm.sign_phase2(party(i), data(i), r1[k][0], r1[k][1], byReceiver(r1.map((x: Js) => x[2]), i)));
  for (const r of r2) if (r.Err) throw new Error(`dkls23-wasm sign phase 2: ${JSON.stringify(r.Err)}`);
  const ok2 = r2.map((r: Js) => r.Ok ?? r);
  const r3 = signers.map((i, k) => wasm.sign_phase3(party(i), data(i), ok2[k][0], ok2[k][1], byReceiver(ok2.map((x: Js) => x[2]), i)));
  for (const r of r3) if (r.Err) throw new Error(`dkls23-wasm sign phase 3: ${JSON.stringify(r.Err)}`);
  const ok3 = r3.map((r: Js) => r.Ok ?? r);
  const broadcasts = ok3.map((x: Js) => x[1]);
  const i = signers[0]!;
  const out = wasm.sign_phase4(party(i), data(i), ok3[0][0], broadcasts, true);
  if (out.Err) throw new Error(`dkls23-wasm sign phase 4: ${JSON.stringify(out.Err)}`);
  return out.Ok ?? out;
}
