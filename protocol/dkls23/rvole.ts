/**
 * Random vector OLE for secp256k1 scalars (DKLs23 §5, the two-party multiplication of DKLs19
 * Protocol 1 with its gadget vector and χ-consistency check), built on the KOS extension.
 *
 * Bob samples choice bits β ∈ {0,1}^ξ and so his random input b = ⟨g, β⟩; Alice inputs a
 * vector a ∈ Z_q^ℓ. Afterwards Alice holds c and Bob d with c_k + d_k = a_k·b. Bob speaks
 * first (the extension message); Alice answers with the correlation corrections τ and the
 * check (u, H(r)); Bob's check catches an Alice who used inconsistent inputs across the
 * gadget, Alice's KOS check catches a Bob who cheated in the extension.
 *
 * Freshness. The base OTs are long-term, so nothing here may repeat when an adversary replays
 * a session: Bob binds the extension to a fresh 32-byte nonce of his (sent with his message,
 * so it is fixed before Alice answers), and Alice derives every OT-derived value she uses (the
 * pads of τ, the check) under a fresh nonce of her own, sent with τ. A co-signer that replays
 * its message byte for byte under a reused session id makes Alice's KOS rows repeat, but not
 * one pad: her corrections stay one-time encryptions of her inputs (finding 1 of SECURITY.md).
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { constantTimeEqual, zeroize } from '../core/transcript.ts';
import { hashTranscript } from '../core/transcript.ts';
import { kosReceive, kosSend, type KosMessage, type OtReceiverSeeds, type OtSenderSeeds } from './ot-extension.ts';
import { tccrExpand } from './tccr.ts';

/** Bytes of each party's freshness nonce. */
export const NONCE_BYTES = 32;

/** The extension's label: the session's pair label and Bob's fresh nonce. */
export const kosLabel = (label: Uint8Array, bobNonce: Uint8Array): Uint8Array => hashTranscript('mpc/dkls23/kos-label/v1', label, bobNonce);
/** The label every OT-derived value of Alice's answer is expanded under: the extension's label and Alice's fresh nonce. */
const voleLabel = (extensionLabel: Uint8Array, aliceNonce: Uint8Array): Uint8Array => hashTranscript('mpc/dkls23/vole-label/v1', extensionLabel, aliceNonce);

/** Bob's message: the extension message and the nonce it is bound to. */
export interface BobMessage extends KosMessage {
  readonly nonce: Uint8Array; // NONCE_BYTES
}

const Q = secp256k1.Point.Fn.ORDER;
const mod = (x: bigint): bigint => {
  const r = x % Q;
  return r < 0n ? r + Q : r;
};

/** Field bits κ plus 2λ_s statistical padding (λ_s = 80): ξ, the number of OTs per multiplication. */
export const XI = 256 + 2 * 80;
/** Alice's inputs per multiplication: the instance key r_i and the key share sk_i. */
export const ELL = 2;
/** Correlation width: ℓ inputs and one random pad â for the check. */
const WIDTH = ELL + 1;
export const TAU_BYTES = XI * WIDTH * 32;

/** The gadget g: 2^0..2^255, then 160 public pseudo-random scalars. */
const GADGET: readonly bigint[] = (() => {
  const g: bigint[] = [];
  for (let j = 0; j < 256; j++) g.push(mod(1n << BigInt(j)));
  const raw = createHash('shake256', { outputLength: 48 * (XI - 256) }).update('mpc/dkls23/gadget/v1').digest();
  for (let j = 0; j < XI - 256; j++) g.push(mod(BigInt('0x' + raw.toString('hex', 48 * j, 48 * (j + 1)))));
  return g;
})();

/** Bytes of one derived scalar. */
const SCALAR_BYTES = 32;
/** TCCR output blocks per OT string: WIDTH scalars. */
const EXPAND_BLOCKS = (WIDTH * SCALAR_BYTES) / 16;

const LOW64 = (1n << 64n) - 1n;
/** x < 2^256 as 32 big-endian bytes at `at` of `view`. */
function writeBytes32(view: DataView, at: number, x: bigint): void {
  view.setBigUint64(at, x >> 192n);
  view.setBigUint64(at + 8, (x >> 128n) & LOW64);
  view.setBigUint64(at + 16, (x >> 64n) & LOW64);
  view.setBigUint64(at + 24, x & LOW64);
}
/** The 32 big-endian bytes at `at` of `view` as an integer. */
function readBytes32(view: DataView, at: number): bigint {
  return (((view.getBigUint64(at) << 64n) | view.getBigUint64(at + 8)) << 128n) | (view.getBigUint64(at + 16) << 64n) | view.getBigUint64(at + 24);
}
const viewOf = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/**
 * The scalar in 32 big-endian bytes at `at`, uniform in [0, q) by rejection: bytes that read as
 * q or more (probability below 2^-127, since q > 2^256 − 2^129) are replaced by `resample(attempt)`
 * until a value falls below q. Exact uniformity is what keeps Alice's corrections one-time pads.
 */
export function scalarByRejection(view: DataView, at: number, resample: (attempt: number) => Uint8Array): bigint {
  for (let attempt = 0; ; attempt++) {
    const x = readBytes32(view, at);
    if (x < Q) return x;
    const fresh = resample(attempt);
    view = viewOf(fresh);
    at = 0;
  }
}

/**
 * The WIDTH scalars of each OT string (16 bytes each) in `strings`, string s under OT index
 * `indexOf(s)`: the TCCR hash (tccr.ts) under the multiplication's label, 32 bytes a scalar,
 * uniform in [0, q). A rejected scalar is replaced by further output blocks of the same string
 * and index, beyond any the first pass uses, one pair per scalar and attempt.
 */
function expandAll(label: Uint8Array, strings: Uint8Array, count: number, indexOf: (s: number) => number): bigint[][] {
  const raw = tccrExpand(label, strings, count, EXPAND_BLOCKS, indexOf);
  const view = viewOf(raw);
  const out: bigint[][] = [];
  for (let s = 0; s < count; s++) {
    const scalars: bigint[] = [];
    for (let k = 0; k < WIDTH; k++) {
      scalars.push(
        scalarByRejection(view, (WIDTH * s + k) * SCALAR_BYTES, (attempt) => {
          const first = EXPAND_BLOCKS + 2 * (WIDTH * attempt + k);
          const blocks = tccrExpand(label, strings.subarray(16 * s, 16 * (s + 1)), 1, first + 2, () => indexOf(s));
          const fresh = Uint8Array.from(blocks.subarray(16 * first));
          blocks.fill(0);
          return fresh;
        }),
      );
    }
    out.push(scalars);
  }
  raw.fill(0);
  return out;
}

/** χ'_1..χ'_ℓ of the check, bound to the label and every correction Alice sent. */
function checkChallenges(label: Uint8Array, tau: Uint8Array): bigint[] {
  const raw = createHash('shake256', { outputLength: 48 * ELL })
    .update('mpc/dkls23/rvole-chi/v1')
    .update(label)
    .update(createHash('sha256').update(tau).digest())
    .digest();
  return Array.from({ length: ELL }, (_, k) => mod(BigInt('0x' + raw.toString('hex', 48 * k, 48 * (k + 1)))));
}

/** g_j·x: a shift for the powers of two that make up the gadget's first 256 entries. */
const SHIFTS: readonly bigint[] = Array.from({ length: 256 }, (_, j) => BigInt(j));
const gadgetTimes = (j: number, x: bigint): bigint => (j < 256 ? x << SHIFTS[j]! : GADGET[j]! * x);

/** x1 − x0 + a mod q for x0, x1, a in [0, q). */
function correction(x1: bigint, x0: bigint, a: bigint): bigint {
  const v = x1 - x0 + a;
  return v < 0n ? v + Q : v >= Q ? v - Q : v;
}

function checkDigest(label: Uint8Array, r: readonly bigint[]): Uint8Array {
  const all = new Uint8Array(32 * r.length);
  const view = viewOf(all);
  r.forEach((x, j) => writeBytes32(view, 32 * j, x));
  return createHash('sha256').update('mpc/dkls23/rvole-check/v1').update(label).update(all).digest();
}

export interface AliceMessage {
  readonly nonce: Uint8Array; // NONCE_BYTES, fresh per answer
  readonly tau: Uint8Array; // XI × WIDTH scalars, 32 bytes big-endian each
  readonly checkU: bigint;
  readonly checkDigest: Uint8Array; // 32 bytes
}

/** Bob's secret state between his message and Alice's answer. */
export interface BobState {
  readonly b: bigint;
  readonly beta: Uint8Array; // XI bits
  readonly rows: Uint8Array; // XI × 16 bytes
  readonly extensionLabel: Uint8Array;
}

/** Bob, step 1: random choice bits, his random input b = ⟨g, β⟩, and the extension message under a fresh nonce. */
export function bobStart(seeds: OtReceiverSeeds, label: Uint8Array, rng: (n: number) => Uint8Array): { state: BobState; message: BobMessage } {
  const beta = Uint8Array.from(rng(XI / 8));
  let b = 0n;
  // BigInt arithmetic is not constant time; at least no branch selects on β.
  for (let j = 0; j < XI; j++) b += GADGET[j]! * BigInt((beta[j >>> 3]! >>> (j & 7)) & 1);
  const nonce = Uint8Array.from(rng(NONCE_BYTES));
  const extensionLabel = kosLabel(label, nonce);
  const { message, rows } = kosReceive(seeds, beta, XI, extensionLabel, rng);
  return { state: { b: mod(b), beta, rows, extensionLabel }, message: { ...message, nonce } };
}

/**
 * Alice: answers Bob's extension message with her inputs `a` (ℓ scalars). Returns her shares
 * c, or undefined when Bob's extension fails its consistency check (Bob cheated).
 */
export function aliceRespond(
  seeds: OtSenderSeeds,
  bob: BobMessage,
  a: readonly bigint[],
  label: Uint8Array,
  rng: (n: number) => Uint8Array,
): { c: bigint[]; message: AliceMessage } | undefined {
  if (a.length !== ELL) throw new RangeError(`Alice inputs ${ELL} scalars`);
  if (bob.nonce.length !== NONCE_BYTES) return undefined;
  const extensionLabel = kosLabel(label, bob.nonce);
  const q = kosSend(seeds, bob, XI, extensionLabel);
  if (!q) return undefined;
  const nonce = Uint8Array.from(rng(NONCE_BYTES));
  label = voleLabel(extensionLabel, nonce);
  const aHat = mod(BigInt('0x' + Buffer.from(rng(48)).toString('hex')));
  const alpha = [...a, aHat];
  const tau = new Uint8Array(TAU_BYTES);
  const x0s: bigint[][] = [];
  const c = new Array<bigint>(ELL).fill(0n);
  // OT j's two strings side by side: q_j (Bob's if β_j = 0) and q_j ⊕ Δ (if β_j = 1).
  const strings = new Uint8Array(32 * XI);
  for (let j = 0; j < XI; j++) {
    for (let k = 0; k < 16; k++) {
      strings[32 * j + k] = q[16 * j + k]!;
      strings[32 * j + 16 + k] = q[16 * j + k]! ^ seeds.delta[k]!;
    }
  }
  const x = expandAll(label, strings, 2 * XI, (s) => s >>> 1);
  zeroize(q, strings);
  const tauView = viewOf(tau);
  for (let j = 0; j < XI; j++) {
    const x0 = x[2 * j]!;
    const x1 = x[2 * j + 1]!;
    for (let k = 0; k < WIDTH; k++) writeBytes32(tauView, 32 * (WIDTH * j + k), correction(x1[k]!, x0[k]!, alpha[k]!));
    for (let k = 0; k < ELL; k++) c[k]! += gadgetTimes(j, x0[k]!);
    x0s.push(x0);
  }
  x.length = 0;
  const chi = checkChallenges(label, tau);
  const r = x0s.map((x0) => mod(chi.reduce((acc, ch, k) => acc + ch * x0[k]!, x0[ELL]!)));
  const checkU = mod(chi.reduce((acc, ch, k) => acc + ch * a[k]!, aHat));
  x0s.length = 0;
  return { c: c.map(mod), message: { nonce, tau, checkU, checkDigest: checkDigest(label, r) } };
}

/**
 * Bob, step 2: his shares d from Alice's corrections, or undefined when Alice's check value
 * does not match (Alice cheated). The state is consumed either way.
 */
export function bobFinish(state: BobState, alice: AliceMessage): bigint[] | undefined {
  try {
    if (alice.nonce.length !== NONCE_BYTES || alice.tau.length !== TAU_BYTES || alice.checkU < 0n || alice.checkU >= Q) return undefined;
    const label = voleLabel(state.extensionLabel, alice.nonce);
    const chi = checkChallenges(label, alice.tau);
    const d = new Array<bigint>(ELL).fill(0n);
    const x = expandAll(label, state.rows, XI, (s) => s);
    const tauView = viewOf(alice.tau);
    const r: bigint[] = [];
    for (let j = 0; j < XI; j++) {
      const bit = BigInt((state.beta[j >>> 3]! >>> (j & 7)) & 1);
      const xb = x[j]!;
      const bt: bigint[] = [];
      for (let k = 0; k < WIDTH; k++) {
        const t = readBytes32(tauView, 32 * (WIDTH * j + k));
        if (t >= Q) return undefined; // public: τ is Alice's message
        bt.push(bit * t - xb[k]!);
      }
      for (let k = 0; k < ELL; k++) d[k]! += gadgetTimes(j, bt[k]!);
      const combined = chi.reduce((acc, ch, k) => acc + ch * bt[k]!, bt[ELL]!);
      r.push(mod(bit * alice.checkU - combined));
    }
    x.length = 0;
    if (!constantTimeEqual(checkDigest(label, r), alice.checkDigest)) return undefined;
    return d.map(mod);
  } finally {
    zeroize(state.beta, state.rows);
  }
}
