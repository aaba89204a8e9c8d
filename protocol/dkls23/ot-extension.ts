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
 * Σ_j row_j·χ_j in GF(2^128) for `rowBytes` (16 bytes a row, `kosRows`) and the challenges χ.
 * Written as Σ_k X^k·W_k with W_k = ⊕ of the rows whose χ_j has bit k set: the branches and the
 * order of work follow the bits of χ, which are public (Fiat–Shamir of the matrix sent); the
 * secret rows are only XORed, every one of them into the same places whatever its value.
 */
export function kosCombineRows(rowBytes: Uint8Array, chi: Uint32Array): Gf128 {
  if (rowBytes.byteOffset % 4 !== 0 || rowBytes.length % 16 !== 0) throw new RangeError('rows must be whole 16-byte rows, aligned for 32-bit words');
  const count = rowBytes.length / 16;
  const rowWords = new Int32Array(rowBytes.buffer, rowBytes.byteOffset, 4 * count);
  const w = new Int32Array(4 * KAPPA);
  for (let j = 0; j < count; j++) {
    const r0 = rowWords[4 * j]!;
    const r1 = rowWords[4 * j + 1]!;
    const r2 = rowWords[4 * j + 2]!;
    const r3 = rowWords[4 * j + 3]!;
    for (let word = 0; word < 4; word++) {
      let bits = chi[4 * j + word]! | 0;
      while (bits !== 0) {
        const lowest = bits & -bits;
        bits ^= lowest;
        const at = 4 * (32 * word + 31 - Math.clz32(lowest));
        w[at]! ^= r0;
        w[at + 1]! ^= r1;
        w[at + 2]! ^= r2;
        w[at + 3]! ^= r3;
      }
    }
  }
  const combined = gf128HornerX(new Uint32Array(w.buffer));
  w.fill(0);
  return combined;
}

/**
 * The first m rows (16 bytes each) of a KAPPA-column matrix: bit i of row j is bit j of column
 * i. Eight columns and eight rows at a time, as an 8×8 bit matrix transposed with shifts and
 * masks (Hacker's Delight §7-3), the same operations whatever the bits.
 */
export function kosRows(columns: Uint8Array, colBytes: number, m: number): Uint8Array {
  const out = new Uint8Array(16 * m);
  for (let g = 0; g < KAPPA / 8; g++) {
    const first = 8 * g * colBytes;
    for (let b = 0; b < m / 8; b++) {
      const p = first + b;
      // Byte b of columns 8g+7 … 8g (most significant first), bit r of each = row 8b + r.
      let x = (columns[p + 7 * colBytes]! << 24) | (columns[p + 6 * colBytes]! << 16) | (columns[p + 5 * colBytes]! << 8) | columns[p + 4 * colBytes]!;
      let y = (columns[p + 3 * colBytes]! << 24) | (columns[p + 2 * colBytes]! << 16) | (columns[p + colBytes]! << 8) | columns[p]!;
      let t = (x ^ (x >>> 7)) & 0x00aa00aa;
      x = x ^ t ^ (t << 7);
      t = (y ^ (y >>> 7)) & 0x00aa00aa;
      y = y ^ t ^ (t << 7);
      t = (x ^ (x >>> 14)) & 0x0000cccc;
      x = x ^ t ^ (t << 14);
      t = (y ^ (y >>> 14)) & 0x0000cccc;
      y = y ^ t ^ (t << 14);
      t = (x & 0xf0f0f0f0) | ((y >>> 4) & 0x0f0f0f0f);
      y = ((x << 4) & 0xf0f0f0f0) | (y & 0x0f0f0f0f);
      x = t;
      // Rows 8b … 8b+7 get byte g: y's bytes from the least significant, then x's.
      const at = 16 * 8 * b + g;
      out[at] = y;
      out[at + 16] = y >>> 8;
      out[at + 32] = y >>> 16;
      out[at + 48] = y >>> 24;
      out[at + 64] = x;
      out[at + 80] = x >>> 8;
      out[at + 96] = x >>> 16;
      out[at + 112] = x >>> 24;
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
  const all = kosRows(t, colBytes, m + KOS_PADDING);
  const tTilde = kosCombineRows(all, chi);
  const out = all.slice(0, 16 * m);
  zeroize(t, x, all);
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
  const all = kosRows(q, colBytes, m + KOS_PADDING);
  const qTilde = kosCombineRows(all, chi);
  const expected = gf128FromBytes(message.tTilde);
  gf128XorInto(expected, gf128Mul(gf128FromBytes(seeds.delta), gf128FromBytes(message.xTilde)));
  const ok = gf128Equal(qTilde, expected);
  const out = ok ? all.slice(0, 16 * m) : undefined;
  zeroize(q, all, new Uint8Array(qTilde.buffer), new Uint8Array(expected.buffer));
  return out;
}
