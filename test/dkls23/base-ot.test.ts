/**
 * DKLs23's base OTs (protocol/dkls23/base-ot.ts) on their own: the receiver ends with exactly the
 * key of its choice, and a sender or receiver who sends elements that are not valid ristretto255
 * encodings, or the identity, or a proof that does not verify, is refused.
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkSenderHello, receiverChoose, senderHello, senderKeys, type BaseOtContext } from '../../protocol/dkls23/base-ot.ts';
import { KAPPA, SEED_BYTES } from '../../protocol/dkls23/ot-extension.ts';

const { Point } = ristretto255;
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
    const odd = Uint8Array.from(hello.a);
    odd[0]! ^= 1; // not canonical
    for (const a of [Point.ZERO.toBytes(), odd, new Uint8Array(32).fill(0xff), hello.a.subarray(1)]) expect(checkSenderHello(ctx, { ...hello, a })).toBe(false);
    // A valid element with a proof for another: refused.
    expect(checkSenderHello(ctx, { ...hello, a: Point.BASE.multiply(7n).toBytes() })).toBe(false);
  });

  it('the sender refuses a B that is the identity, equal to A, not canonical or not an element', () => {
    const { hello, secret } = senderHello(ctx, rng);
    const { bs } = receiverChoose(ctx, hello.a, rng(KAPPA / 8), rng);
    const odd = Uint8Array.from(bs.subarray(0, 32));
    odd[0]! ^= 1;
    const bad = [Point.ZERO.toBytes(), hello.a, odd, new Uint8Array(32).fill(0xff)];
    for (const b of bad) {
      const tampered = Uint8Array.from(bs);
      tampered.set(b, 32 * 7);
      expect(senderKeys(ctx, secret, tampered)).toBeUndefined();
    }
    expect(senderKeys(ctx, secret, bs.subarray(32))).toBeUndefined();
    expect(senderKeys(ctx, secret, bs)).toBeDefined();
  });

  it('the keys are the hashes of a·B and a·(B − A) that noble computes, and the receiver\'s of b·A', () => {
    // The sender's a from its secret; noble recomputes both keys of a few OTs from it.
    const { hello, secret } = senderHello(ctx, rng);
    const choices = rng(KAPPA / 8);
    const { bs } = receiverChoose(ctx, hello.a, choices, rng);
    const keys = senderKeys(ctx, secret, bs)!;
    const a = Point.Fn.fromBytes(secret.scalar);
    expect(Point.BASE.multiply(a).toHex()).toBe(Buffer.from(hello.a).toString('hex'));
    const A = Point.fromBytes(hello.a);
    const key = (i: number, b: Uint8Array, shared: Uint8Array) => {
      const ids = Buffer.alloc(8);
      ids.writeUInt32BE(ctx.sender, 0);
      ids.writeUInt32BE(ctx.receiver, 4);
      const idx = Buffer.alloc(4);
      idx.writeUInt32BE(i);
      return createHash('sha256').update('mpc/dkls23/base-ot-key/v2').update(ctx.session).update(ids).update(idx).update(hello.a).update(b).update(shared).digest().subarray(0, SEED_BYTES);
    };
    for (const i of [0, 1, 77, KAPPA - 1]) {
      const b = bs.subarray(32 * i, 32 * (i + 1));
      const B = Point.fromBytes(b);
      expect(key(i, b, B.multiply(a).toBytes()).equals(seed(keys.seeds0, i)), `OT ${i}, k0`).toBe(true);
      expect(key(i, b, B.subtract(A).multiply(a).toBytes()).equals(seed(keys.seeds1, i)), `OT ${i}, k1`).toBe(true);
    }
  });
});
