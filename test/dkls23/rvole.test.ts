/**
 * The random vector OLE on its own: for random base-OT seeds in the relation the base OTs
 * leave (the extension sender knows Δ and k_i^{Δ_i}, the receiver both seeds), Alice's and
 * Bob's outputs add up to a_k·b for every input, every correction Alice sends is a canonical
 * scalar, an altered correction is caught by Bob's check, and the OT strings become scalars
 * uniform in [0, q) by rejection, not by a biased reduction.
 */
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { KAPPA, SEED_BYTES } from '../../protocol/dkls23/ot-extension.ts';
import { aliceRespond, bobFinish, bobStart, scalarByRejection, TAU_BYTES } from '../../protocol/dkls23/rvole.ts';

const Q = secp256k1.Point.Fn.ORDER;
const rng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function seedPair() {
  const seeds0 = rng(KAPPA * SEED_BYTES);
  const seeds1 = rng(KAPPA * SEED_BYTES);
  const delta = rng(16);
  const chosen = new Uint8Array(KAPPA * SEED_BYTES);
  for (let i = 0; i < KAPPA; i++) chosen.set(((delta[i >>> 3]! >>> (i & 7)) & 1 ? seeds1 : seeds0).subarray(SEED_BYTES * i, SEED_BYTES * (i + 1)), SEED_BYTES * i);
  return { receiver: { seeds0, seeds1 }, sender: { delta, seeds: chosen } };
}

const scalar = (bytes: Uint8Array): bigint => BigInt('0x' + Buffer.from(bytes).toString('hex')) % Q;

describe('random vector OLE (DKLs19 Protocol 1 over KOS)', () => {
  it('gives Alice c and Bob d with c_k + d_k = a_k·b, for inputs across the whole range, and sends only canonical corrections', () => {
    const { receiver, sender } = seedPair();
    const inputs: bigint[][] = [
      [0n, 1n],
      [Q - 1n, Q - 2n],
      [1n << 255n, (1n << 128n) + 3n],
      ...Array.from({ length: 9 }, () => [scalar(rng(32)), scalar(rng(32))]),
    ];
    for (const a of inputs) {
      const label = rng(32);
      const { state, message } = bobStart(receiver, label, rng);
      const b = state.b;
      const answer = aliceRespond(sender, message, a, label, rng)!;
      expect(answer.message.tau.length).toBe(TAU_BYTES);
      for (let at = 0; at < TAU_BYTES; at += 32) expect(BigInt('0x' + Buffer.from(answer.message.tau.subarray(at, at + 32)).toString('hex')) < Q).toBe(true);
      const d = bobFinish(state, answer.message)!;
      expect(d).toBeDefined();
      for (let k = 0; k < a.length; k++) expect((answer.c[k]! + d[k]!) % Q, `input ${k} of ${a}`).toBe((a[k]! * b) % Q);
    }
  });

  it('catches an Alice whose corrections are not those her check was computed over', () => {
    const { receiver, sender } = seedPair();
    const label = rng(32);
    const { state, message } = bobStart(receiver, label, rng);
    const answer = aliceRespond(sender, message, [scalar(rng(32)), scalar(rng(32))], label, rng)!;
    const tau = Uint8Array.from(answer.message.tau);
    tau[32 * 7 + 31]! ^= 1; // one correction moved by ±1
    expect(bobFinish(state, { ...answer.message, tau })).toBeUndefined();
  });

  it('refuses a correction that is not a canonical scalar', () => {
    const { receiver, sender } = seedPair();
    const label = rng(32);
    const { state, message } = bobStart(receiver, label, rng);
    const answer = aliceRespond(sender, message, [1n, 2n], label, rng)!;
    const tau = Uint8Array.from(answer.message.tau);
    tau.fill(0xff, 0, 32); // ≥ q: the same residue could be written two ways
    expect(bobFinish(state, { ...answer.message, tau })).toBeUndefined();
  });
});

describe('OT strings to scalars', () => {
  const bytesOf = (x: bigint): Uint8Array => Uint8Array.from(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'));
  const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

  it('reads a value below q as it is, without asking for more bytes', () => {
    for (const x of [0n, 1n, Q - 1n, 1n << 200n]) {
      const framed = new Uint8Array(40);
      framed.set(bytesOf(x), 8);
      expect(scalarByRejection(view(framed), 8, () => expect.fail('resampled a value below q'))).toBe(x);
    }
  });

  it('replaces a value of q or more by fresh bytes (rejection), never by its residue, and keeps going until one falls below q', () => {
    const attempts: number[] = [];
    const replacements = [bytesOf(Q), bytesOf((1n << 256n) - 1n), bytesOf(42n)];
    const x = scalarByRejection(view(bytesOf(Q + 5n)), 0, (attempt) => {
      attempts.push(attempt);
      return replacements[attempt]!;
    });
    expect(x).toBe(42n); // not 5n, the biased reduction of Q + 5
    expect(attempts).toEqual([0, 1, 2]);
  });
});
