/**
 * DKLs23's base OTs (protocol/dkls23/base-ot.ts) on their own: the receiver ends with exactly the
 * key of its choice, and a sender or receiver who sends points that are not valid elements, or
 * a proof that does not verify, is refused.
 */
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkSenderHello, receiverChoose, senderHello, senderKeys, type BaseOtContext } from '../../protocol/dkls23/base-ot.ts';
import { KAPPA, SEED_BYTES } from '../../protocol/dkls23/ot-extension.ts';

const { Point } = ed25519;
const rng = (n: number) => new Uint8Array(randomBytes(n));
const ctx: BaseOtContext = { session: rng(32), sender: 1, receiver: 2 };
const bit = (bytes: Uint8Array, i: number) => (bytes[i >>> 3]! >>> (i & 7)) & 1;
const seed = (seeds: Uint8Array, i: number) => Buffer.from(seeds.subarray(SEED_BYTES * i, SEED_BYTES * (i + 1)));

describe('base OTs', () => {
  it('the receiver holds k_c of every OT and never k_{1−c}; the sender holds both', () => {
    const { hello, secret } = senderHello(ctx, rng);
    expect(checkSenderHello(ctx, hello)).toBe(true);
    const choices = rng(KAPPA / 8);
    const { bs, seeds } = receiverChoose(ctx, hello.a, choices, rng);
    const keys = senderKeys(ctx, secret, bs)!;
    for (let i = 0; i < KAPPA; i++) {
      const [chosen, other] = bit(choices, i) ? [keys.seeds1, keys.seeds0] : [keys.seeds0, keys.seeds1];
      expect(seed(seeds, i).equals(seed(chosen, i)), `OT ${i}`).toBe(true);
      expect(seed(seeds, i).equals(seed(other, i)), `OT ${i}`).toBe(false);
    }
  });

  it('the sender\'s hello is refused in another context, with a changed proof, or with A not a valid element', () => {
    const { hello } = senderHello(ctx, rng);
    expect(checkSenderHello({ ...ctx, receiver: 3 }, hello)).toBe(false);
    const flipped = Uint8Array.from(hello.proof);
    flipped[40]! ^= 1;
    expect(checkSenderHello(ctx, { ...hello, proof: flipped })).toBe(false);
    const zOverflow = Uint8Array.from(hello.proof);
    zOverflow.set(new Uint8Array(32).fill(0xff), 32);
    expect(checkSenderHello(ctx, { ...hello, proof: zOverflow })).toBe(false);
    const A = Point.fromBytes(hello.a);
    const torsion = Point.fromBytes(Buffer.from(ED25519_TORSION_SUBGROUP[1]!, 'hex'));
    for (const a of [Point.ZERO.toBytes(), torsion.toBytes(), A.add(torsion).toBytes()]) expect(checkSenderHello(ctx, { ...hello, a })).toBe(false);
  });

  it('the sender refuses a B that is the identity, of small or mixed order, equal to A, or not a point', () => {
    const { hello, secret } = senderHello(ctx, rng);
    const { bs } = receiverChoose(ctx, hello.a, rng(KAPPA / 8), rng);
    const torsion = Point.fromBytes(Buffer.from(ED25519_TORSION_SUBGROUP[1]!, 'hex'));
    const honest = Point.fromBytes(bs.subarray(0, 32));
    const bad = [Point.ZERO.toBytes(), torsion.toBytes(), honest.add(torsion).toBytes(), hello.a, Uint8Array.of(2, ...new Array<number>(31).fill(0))];
    for (const b of bad) {
      const tampered = Uint8Array.from(bs);
      tampered.set(b, 32 * 7);
      expect(senderKeys(ctx, secret, tampered)).toBeUndefined();
    }
    expect(senderKeys(ctx, secret, bs.subarray(32))).toBeUndefined();
    expect(senderKeys(ctx, secret, bs)).toBeDefined();
  });
});
