/**
 * The KOS extension (protocol/dkls23/ot-extension.ts) on seeds set up by hand: what each side
 * ends with, and the PRG that stretches the base-OT seeds into columns.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KAPPA, kosColumns, kosCombineRows, kosReceive, kosRows, kosSend, SEED_BYTES } from '../../protocol/dkls23/ot-extension.ts';
import { gf128FromBytes, gf128Mul, gf128ToBytes, gf128XorInto, gf128Zero } from '../../protocol/dkls23/gf128.ts';

const rng = (n: number) => new Uint8Array(randomBytes(n));
const bit = (bytes: Uint8Array, i: number) => (bytes[i >>> 3]! >>> (i & 7)) & 1;

/** Base-OT outputs as the extension sees them: the receiver knows both seeds, the sender the one its Δ bit chose. */
function baseOts() {
  const seeds0 = rng(KAPPA * SEED_BYTES);
  const seeds1 = rng(KAPPA * SEED_BYTES);
  const delta = rng(16);
  const chosen = new Uint8Array(KAPPA * SEED_BYTES);
  for (let i = 0; i < KAPPA; i++) chosen.set((bit(delta, i) ? seeds1 : seeds0).subarray(SEED_BYTES * i, SEED_BYTES * (i + 1)), SEED_BYTES * i);
  return { receiver: { seeds0, seeds1 }, sender: { delta, seeds: chosen } };
}

describe('KOS OT extension', () => {
  it('gives the receiver t_j and the sender q_j with t_j = q_j ⊕ x_j·Δ for every extended OT', () => {
    const { receiver, sender } = baseOts();
    const m = 416;
    const choices = rng(m / 8);
    const label = rng(32);
    const { message, rows } = kosReceive(receiver, choices, m, label, rng);
    const q = kosSend(sender, message, m, label)!;
    expect(q).toBeDefined();
    for (let j = 0; j < m; j++) {
      const expected = Uint8Array.from(q.subarray(16 * j, 16 * (j + 1)), (b, k) => b ^ (bit(choices, j) ? sender.delta[k]! : 0));
      expect(Buffer.from(rows.subarray(16 * j, 16 * (j + 1))).equals(expected), `OT ${j}`).toBe(true);
    }
  });

  it('the sender refuses a message extended under another label (its check fails)', () => {
    const { receiver, sender } = baseOts();
    const { message } = kosReceive(receiver, rng(52), 416, rng(32), rng);
    expect(kosSend(sender, message, 416, rng(32))).toBeUndefined();
  });
});

describe('the matrix work of the consistency check', () => {
  it('kosRows transposes: bit i of row j is bit j of column i, for every bit', () => {
    for (const m of [8, 64, 608]) {
      const colBytes = m / 8 + 4;
      const columns = rng(KAPPA * colBytes);
      const rows = kosRows(columns, colBytes, m);
      expect(rows.length).toBe(16 * m);
      for (let j = 0; j < m; j++) {
        for (let i = 0; i < KAPPA; i++) expect(bit(rows, 128 * j + i), `row ${j}, column ${i}`).toBe(bit(columns.subarray(colBytes * i), j));
      }
    }
  });

  it('kosCombineRows is Σ_j row_j·χ_j in GF(2^128), multiplied out row by row', () => {
    for (const count of [1, 7, 608]) {
      const rows = rng(16 * count);
      const chi = new Uint32Array(rng(16 * count).buffer);
      const expected = gf128Zero();
      for (let j = 0; j < count; j++) gf128XorInto(expected, gf128Mul(gf128FromBytes(rows, 16 * j), chi.subarray(4 * j, 4 * j + 4)));
      expect(gf128ToBytes(kosCombineRows(rows, chi))).toEqual(gf128ToBytes(expected));
    }
  });
});

describe('the PRG of the extension\'s columns', () => {
  it('is deterministic in seed and label, column i depends on seed i alone, and another label gives other columns', () => {
    const seeds = rng(KAPPA * SEED_BYTES);
    const label = rng(32);
    const colBytes = 76;
    const columns = kosColumns(seeds, label, colBytes);
    expect(columns.length).toBe(KAPPA * colBytes);
    expect(kosColumns(seeds, label, colBytes)).toEqual(columns);
    const changed = Uint8Array.from(seeds);
    changed[SEED_BYTES * 5]! ^= 1;
    const again = kosColumns(changed, label, colBytes);
    for (let i = 0; i < KAPPA; i++) {
      const same = Buffer.from(again.subarray(colBytes * i, colBytes * (i + 1))).equals(columns.subarray(colBytes * i, colBytes * (i + 1)));
      expect(same, `column ${i}`).toBe(i !== 5);
    }
    const other = kosColumns(seeds, rng(32), colBytes);
    for (let i = 0; i < KAPPA; i++) expect(Buffer.from(other.subarray(colBytes * i, colBytes * (i + 1))).equals(columns.subarray(colBytes * i, colBytes * (i + 1)))).toBe(false);
  });

  it('gives equal seeds in different positions different columns (the column index is a tweak)', () => {
    const seed = rng(SEED_BYTES);
    const seeds = new Uint8Array(KAPPA * SEED_BYTES);
    for (let i = 0; i < KAPPA; i++) seeds.set(seed, SEED_BYTES * i);
    const columns = kosColumns(seeds, rng(32), 76);
    const distinct = new Set(Array.from({ length: KAPPA }, (_, i) => Buffer.from(columns.subarray(76 * i, 76 * (i + 1))).toString('hex')));
    expect(distinct.size).toBe(KAPPA);
  });
});
