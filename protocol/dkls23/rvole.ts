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

/** Bytes of one derived scalar: 48, so reducing mod q leaves a bias below 2^-128. */
const SCALAR_BYTES = 48;
/** TCCR output blocks per OT string: WIDTH scalars. */
const EXPAND_BLOCKS = (WIDTH * SCALAR_BYTES) / 16;

/**
 * The WIDTH scalars of each OT string (16 bytes each) in `strings`, string s under OT index
 * `indexOf(s)`: the TCCR hash (tccr.ts) under the multiplication's label. Left unreduced
 * (< 2^384): every use reduces its result mod q once.
 */
function expandAll(label: Uint8Array, strings: Uint8Array, count: number, indexOf: (s: number) => number): bigint[][] {
  const raw = tccrExpand(label, strings, count, EXPAND_BLOCKS, indexOf);
  const out: bigint[][] = [];
  for (let s = 0; s < count; s++) {
    const scalars: bigint[] = [];
    for (let k = 0; k < WIDTH; k++) {
      const at = (WIDTH * s + k) * SCALAR_BYTES;
      scalars.push(BigInt('0x' + raw.toString('hex', at, at + SCALAR_BYTES)));
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

// Buffer's native hex decoding: this runs ξ·ℓ times per multiplication, where noble's JS decoder shows in profiles.
const toBytes32 = (x: bigint): Uint8Array => Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
const fromBytes32 = (b: Uint8Array, offset: number): bigint => BigInt('0x' + Buffer.from(b.buffer, b.byteOffset + offset, 32).toString('hex'));

function checkDigest(label: Uint8Array, r: readonly bigint[]): Uint8Array {
  const all = new Uint8Array(32 * r.length);
  r.forEach((x, j) => all.set(toBytes32(x), 32 * j));
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
  for (let j = 0; j < XI; j++) {
    const x0 = x[2 * j]!;
    const x1 = x[2 * j + 1]!;
    for (let k = 0; k < WIDTH; k++) tau.set(toBytes32(mod(x1[k]! - x0[k]! + alpha[k]!)), 32 * (WIDTH * j + k));
    for (let k = 0; k < ELL; k++) c[k]! += GADGET[j]! * x0[k]!;
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
    const r: bigint[] = [];
    for (let j = 0; j < XI; j++) {
      const bit = BigInt((state.beta[j >>> 3]! >>> (j & 7)) & 1);
      const xb = x[j]!;
      const bt: bigint[] = [];
      for (let k = 0; k < WIDTH; k++) {
        const t = fromBytes32(alice.tau, 32 * (WIDTH * j + k));
        if (t >= Q) return undefined; // public: τ is Alice's message
        bt.push(bit * t - xb[k]!);
      }
      for (let k = 0; k < ELL; k++) d[k]! += GADGET[j]! * bt[k]!;
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
