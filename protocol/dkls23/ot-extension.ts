/**
 * Random OT extension after Keller–Orsini–Scholl (KOS15, eprint 2015/546), with the
 * consistency check computed over GF(2^128) and its challenge derived by Fiat–Shamir from
 * the receiver's matrix, so the extension is a single message from receiver to sender.
 *
 * Roles are those of the extension: the *receiver* has choice bits x and learns one string
 * per OT; the *sender* holds Δ ∈ {0,1}^κ and learns both. The κ = 128 base OTs run the other
 * way (base-ot.ts): the extension receiver knows both seeds k_i^0, k_i^1 of every base OT,
 * the extension sender only k_i^{Δ_i}.
 *
 * Base OTs are set up once per pair of parties (at key generation) and reused: every
 * extension expands them with a fresh 32-byte label that binds session, key, parties,
 * direction and purpose, so no two sessions ever see related columns. What an extension
 * produces lives only in its session and is zeroised with it.
 *
 * Secret-dependent control flow: the sender's Δ and the receiver's choice bits and rows are
 * secret, so every loop over them selects with masks, never with branches or early exits (the
 * loops run over public lengths). JavaScript gives no guarantee beyond that; see SECURITY.md.
 */
import { createHash } from 'node:crypto';
import { hashTranscript, zeroize } from '../core/transcript.ts';
import { alignedWords } from './words.ts';
import { tccrExpand } from './tccr.ts';
import { gf128Equal, gf128FromBytes, gf128HornerX, gf128Mul, gf128ToBytes, gf128XorInto, gf128XorMaskedInto, type Gf128 } from './gf128.ts';

/** Number of base OTs (computational security parameter κ). */
export const KAPPA = 128;
/** Extra OTs consumed by the check, κ + s with s = 64, so the check reveals nothing of the real choices. */
export const KOS_PADDING = KAPPA + 64;
/** Bytes of one base-OT seed. */
export const SEED_BYTES = 16;

/** Extension receiver's long-term state with one peer: both seeds of each base OT. */
export interface OtReceiverSeeds {
  readonly seeds0: Uint8Array; // KAPPA × SEED_BYTES
  readonly seeds1: Uint8Array;
}

/** Extension sender's long-term state with one peer: Δ and the seed it chose in each base OT. */
export interface OtSenderSeeds {
  readonly delta: Uint8Array; // 16 bytes: bit i is the choice in base OT i
  readonly seeds: Uint8Array; // KAPPA × SEED_BYTES: k_i^{Δ_i}
}

/** The receiver's single message: the correction matrix and the check values. */
export interface KosMessage {
  readonly u: Uint8Array; // KAPPA columns of (m + KOS_PADDING) / 8 bytes
  readonly xTilde: Uint8Array; // 16 bytes
  readonly tTilde: Uint8Array; // 16 bytes
}

export const kosMessageBytes = (m: number): number => (KAPPA * (m + KOS_PADDING)) / 8;

/**
 * The PRG that stretches each base-OT seed into its column: all κ columns of `colBytes` bytes,
 * column-major, G(k_i) = the TCCR hash of k_i (tccr.ts) under tweaks (i, block), with π keyed by
 * this extension's label. The seeds are uniform, secret and independent (base-OT outputs), so
 * each π(k_i) is unknown to whoever lacks k_i, and the blocks are π at unpredictable, distinct
 * points masked by it: pseudorandom in the ideal-cipher model the rVOLE's hash already rests
 * on. A fresh label per extension gives a fresh π, so a seed reused across sessions yields
 * unrelated columns. Two native AES passes for all κ columns, where one SHAKE256 call per
 * column cost ~4 µs each.
 */
export function kosColumns(seeds: Uint8Array, label: Uint8Array, colBytes: number): Uint8Array {
  const blocks = Math.ceil(colBytes / 16);
  const expanded = tccrExpand(hashTranscript('mpc/dkls23/kos-prg/v2', label), seeds, KAPPA, blocks, (i) => i);
  if (16 * blocks === colBytes) return expanded;
  const columns = new Uint8Array(KAPPA * colBytes);
  for (let i = 0; i < KAPPA; i++) columns.set(expanded.subarray(16 * blocks * i, 16 * blocks * i + colBytes), colBytes * i);
  expanded.fill(0);
  return columns;
}

/** The Fiat–Shamir challenges χ_1..χ_m' ∈ GF(2^128), from the label and the whole matrix u. */
export function kosChallenges(label: Uint8Array, u: Uint8Array, count: number): Uint32Array {
  const uDigest = createHash('sha256').update(u).digest();
  const raw = createHash('shake256', { outputLength: 16 * count }).update('mpc/dkls23/kos-chi/v1').update(label).update(uDigest).digest();
  return alignedWords(raw);
}

/**
 * Σ_j row_j·χ_j for the rows of a column-major matrix, computed column by column:
 * Σ_i X^i·(⊕_j bit_j(column i)·χ_j), so no full field multiplication is needed. Every bit is
 * visited and selects χ_j by a mask (the matrix is secret).
 */
export function kosCombineRows(columns: Uint8Array, colBytes: number, chi: Uint32Array): Gf128 {
  const ys = new Uint32Array(4 * KAPPA);
  for (let i = 0; i < KAPPA; i++) {
    const base = i * colBytes;
    const y = 4 * i;
    let y0 = 0;
    let y1 = 0;
    let y2 = 0;
    let y3 = 0;
    for (let b = 0; b < colBytes; b++) {
      const byte = columns[base + b]!;
      for (let bit = 0; bit < 8; bit++) {
        const mask = -((byte >>> bit) & 1);
        const c = 4 * (8 * b + bit);
        y0 ^= chi[c]! & mask;
        y1 ^= chi[c + 1]! & mask;
        y2 ^= chi[c + 2]! & mask;
        y3 ^= chi[c + 3]! & mask;
      }
    }
    ys[y] = y0;
    ys[y + 1] = y1;
    ys[y + 2] = y2;
    ys[y + 3] = y3;
  }
  return gf128HornerX(ys);
}

/** The first m rows (16 bytes each) of a KAPPA-column matrix: a bit transpose over every bit. */
function rows(columns: Uint8Array, colBytes: number, m: number): Uint8Array {
  const out = new Uint8Array(16 * m);
  for (let i = 0; i < KAPPA; i++) {
    const base = i * colBytes;
    const byteInRow = i >>> 3;
    const shift = i & 7;
    for (let b = 0; b < m / 8; b++) {
      const byte = columns[base + b]!;
      const at = 16 * 8 * b + byteInRow;
      for (let bit = 0; bit < 8; bit++) out[at + 16 * bit]! |= ((byte >>> bit) & 1) << shift;
    }
  }
  return out;
}

function checkLength(m: number): number {
  if (!Number.isInteger(m) || m <= 0 || m % 8 !== 0) throw new RangeError('the number of extended OTs must be a positive multiple of 8');
  return (m + KOS_PADDING) / 8;
}

/**
 * Receiver: extends to m OTs with choice bits `choices` (m bits, packed LSB first).
 * Returns the message for the sender and the receiver's rows t_j (its OT outputs before hashing).
 */
export function kosReceive(seeds: OtReceiverSeeds, choices: Uint8Array, m: number, label: Uint8Array, rng: (n: number) => Uint8Array): { message: KosMessage; rows: Uint8Array } {
  const colBytes = checkLength(m);
  const x = new Uint8Array(colBytes);
  x.set(choices.subarray(0, m / 8));
  x.set(rng(KOS_PADDING / 8), m / 8);
  const t = kosColumns(seeds.seeds0, label, colBytes);
  const t1 = kosColumns(seeds.seeds1, label, colBytes);
  const u = new Uint8Array(KAPPA * colBytes);
  for (let i = 0; i < KAPPA; i++) {
    const o = i * colBytes;
    for (let b = 0; b < colBytes; b++) u[o + b] = t[o + b]! ^ t1[o + b]! ^ x[b]!;
  }
  zeroize(t1);
  const chi = kosChallenges(label, u, m + KOS_PADDING);
  const xTilde = new Uint32Array(4);
  for (let j = 0; j < m + KOS_PADDING; j++) gf128XorMaskedInto(xTilde, chi, 4 * j, x[j >>> 3]! >>> (j & 7));
  const tTilde = kosCombineRows(t, colBytes, chi);
  const out = rows(t, colBytes, m);
  zeroize(t, x);
  return { message: { u, xTilde: gf128ToBytes(xTilde), tTilde: gf128ToBytes(tTilde) }, rows: out };
}

/**
 * Sender: checks the receiver's message and returns its rows q_j (the OT strings are q_j and
 * q_j ⊕ Δ), or undefined when the consistency check fails, which proves the receiver cheated.
 */
export function kosSend(seeds: OtSenderSeeds, message: KosMessage, m: number, label: Uint8Array): Uint8Array | undefined {
  const colBytes = checkLength(m);
  if (message.u.length !== KAPPA * colBytes || message.xTilde.length !== 16 || message.tTilde.length !== 16) return undefined;
  const q = kosColumns(seeds.seeds, label, colBytes);
  for (let i = 0; i < KAPPA; i++) {
    const o = i * colBytes;
    const take = -((seeds.delta[i >>> 3]! >>> (i & 7)) & 1) & 0xff;
    for (let b = 0; b < colBytes; b++) q[o + b]! ^= message.u[o + b]! & take;
  }
  const chi = kosChallenges(label, message.u, m + KOS_PADDING);
  const qTilde = kosCombineRows(q, colBytes, chi);
  const expected = gf128FromBytes(message.tTilde);
  gf128XorInto(expected, gf128Mul(gf128FromBytes(seeds.delta), gf128FromBytes(message.xTilde)));
  const ok = gf128Equal(qTilde, expected);
  const out = ok ? rows(q, colBytes, m) : undefined;
  zeroize(q, new Uint8Array(qTilde.buffer), new Uint8Array(expected.buffer));
  return out;
}
