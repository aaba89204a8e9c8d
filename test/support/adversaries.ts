/**
 * Adversaries of SECURITY.md's threat model, written as code: a co-signer that runs with a
 * chosen RNG stream and replays, a KOS receiver that probes the victim's Δ, and the algebra
 * each would use on what it sees. Test code only: nothing in production imports this.
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { array, bytes, decodeCbor, encodeCbor, type Rng } from '../../protocol/core/index.ts';
import { gf128FromBytes, gf128MulXInto, gf128ToBytes, gf128XorInto, gf128XorMaskedInto } from '../../protocol/dkls23/gf128.ts';
import { KAPPA, KOS_PADDING, kosChallenges, kosColumns, kosCombineRows, kosRows, type OtReceiverSeeds } from '../../protocol/dkls23/ot-extension.ts';
import { kosLabel, NONCE_BYTES, XI } from '../../protocol/dkls23/rvole.ts';

const Fn = secp256k1.Point.Fn;
const N = Fn.ORDER;

/** A party running with a fixed, adversary-chosen randomness: the same seed gives the same stream. */
export function fixedRng(seed: string): Rng {
  let counter = 0;
  return (n) => new Uint8Array(createHash('shake256', { outputLength: n }).update(seed).update(String(counter++)).digest());
}

/** Every DKLs23 payload is a CBOR array of byte strings; this reads and writes them field by field. */
const fieldsCodec = array(bytes({ min: 0, max: 1 << 20 }), { min: 1, max: 16 });
export const payloadFields = (payload: Uint8Array): Uint8Array[] => decodeCbor(fieldsCodec, payload);
export const encodeFields = (fields: Uint8Array[]): Uint8Array => encodeCbor(fieldsCodec, fields);

/**
 * The replay attacker's algebra. It ran two signing sessions under one session id with its own
 * randomness fixed, so the combined nonces differ by the honest signer's nonce difference δ,
 * which it reads off the honest signer's corrections τ (row 0, input 0 is the instance key r).
 * With s_i·k_i = e + r_i·x and k_2 = k_1 + δ, two signatures give the key x. Returns x when the
 * guess is right (x·G is the group key), else undefined.
 */
export function recoverKeyFromReplay(
  tau1: Uint8Array,
  tau2: Uint8Array,
  sig1: Uint8Array,
  sig2: Uint8Array,
  digest: Uint8Array,
  groupKey: Uint8Array,
): bigint | undefined {
  const delta = Fn.create(Fn.fromBytes(tau2.subarray(0, 32)) - Fn.fromBytes(tau1.subarray(0, 32)));
  const e = Fn.create(BigInt('0x' + Buffer.from(digest).toString('hex')));
  const [r1, s1] = [Fn.fromBytes(sig1.subarray(0, 32)), Fn.fromBytes(sig1.subarray(32))];
  const [r2, s2] = [Fn.fromBytes(sig2.subarray(0, 32)), Fn.fromBytes(sig2.subarray(32))];
  const pk = secp256k1.Point.fromBytes(groupKey);
  // Low-S normalisation may have negated either s: try the four signs.
  for (const S1 of [s1, N - s1]) {
    for (const S2 of [s2, N - s2]) {
      const denominator = Fn.create(Fn.div(S2 * r1, S1) - r2);
      if (denominator === 0n) continue;
      const x = Fn.div(Fn.create(e - Fn.div(S2 * e, S1) - S2 * delta), denominator);
      if (x !== 0n && secp256k1.Point.BASE.multiply(x).equals(pk)) return x;
    }
  }
  return undefined;
}

/**
 * A malicious KOS receiver's round-1 message that probes bit `column` of the victim's Δ: it
 * uses other choice bits in that one column (row `row` flipped) and shifts t̃ by its `guess`
 * times the matching term, so the victim's check passes exactly when guess = Δ_column. One
 * probe, one bit: the selective-failure attack of KOS15 §4, as a real co-signer would run it.
 */
export function kosProbe(seeds: OtReceiverSeeds, pairLabel: Uint8Array, probe: { column: number; row: number; guess: 0 | 1 }, rng: Rng): { u: Uint8Array; xTilde: Uint8Array; tTilde: Uint8Array; nonce: Uint8Array } {
  const m = XI;
  const colBytes = (m + KOS_PADDING) / 8;
  const nonce = rng(NONCE_BYTES);
  const label = kosLabel(pairLabel, nonce);
  const x = rng(colBytes);
  const t = kosColumns(seeds.seeds0, label, colBytes);
  const t1 = kosColumns(seeds.seeds1, label, colBytes);
  const u = new Uint8Array(KAPPA * colBytes);
  for (let i = 0; i < KAPPA; i++) {
    for (let b = 0; b < colBytes; b++) u[i * colBytes + b] = t[i * colBytes + b]! ^ t1[i * colBytes + b]! ^ x[b]!;
  }
  // The inconsistent column: choice bit `row` flipped in column `column` only.
  u[probe.column * colBytes + (probe.row >>> 3)]! ^= 1 << (probe.row & 7);
  const chi = kosChallenges(label, u, m + KOS_PADDING);
  const xTilde = new Uint32Array(4);
  for (let j = 0; j < m + KOS_PADDING; j++) gf128XorMaskedInto(xTilde, chi, 4 * j, x[j >>> 3]! >>> (j & 7));
  const tTilde = kosCombineRows(kosRows(t, colBytes, m + KOS_PADDING), chi);
  // The victim's q̃ gains Δ_column·X^column·χ_row; add guess·X^column·χ_row to match it.
  if (probe.guess) {
    const term = gf128FromBytes(gf128ToBytes(chi.subarray(4 * probe.row, 4 * probe.row + 4)));
    for (let i = 0; i < probe.column; i++) gf128MulXInto(term);
    gf128XorInto(tTilde, term);
  }
  return { u, xTilde: gf128ToBytes(xTilde), tTilde: gf128ToBytes(tTilde), nonce };
}

/** Bit i of Δ (what the test knows, to play a lucky prober). */
export const deltaBit = (delta: Uint8Array, i: number): 0 | 1 => ((delta[i >>> 3]! >>> (i & 7)) & 1) as 0 | 1;
