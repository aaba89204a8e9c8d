/**
 * The κ = 128 base OTs each pair of parties sets up once, at key generation, for the OT
 * extension (ot-extension.ts). "Simplest OT" (Chou–Orlandi 2015) in its verified-sender form
 * as DKLs18 (eprint 2018/499, VSOT) uses it: the OT sender publishes A = a·G with a Schnorr
 * proof of knowledge of a (so a is extractable), the receiver with choice c sends
 * B = b·G + c·A, and the keys are k_0 = H(a·B), k_1 = H(a·(B − A)), the receiver's
 * k_c = H(b·A).
 *
 * Why this is enough here: B is uniform whatever c is, so the receiver's choice bits (which
 * become the extension sender's Δ) are hidden perfectly, even from a malicious sender; the
 * sender's other key needs CDH to compute. Each key's hash binds the session, both parties,
 * the OT index, A and B, so a receiver cannot relate keys across OTs or sessions.
 *
 * The group is edwards25519 and its arithmetic libsodium's, on encodings (ed25519-sodium.ts): a
 * and b are clamped X25519 private keys, A = a·G and b·G by the constant-time base
 * multiplication of a mod ℓ, B by addition, and every DH value by X25519 on the Montgomery
 * u-coordinate of the other's point, which an encoding gives without a square root. Every
 * point received must be a valid element (canonical, of prime order ℓ); a DH result of all
 * zeros is refused.
 */
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { constantTimeEqual } from '../core/transcript.ts';
import { ed25519BaseMul, Ed25519Encoded, isValidEd25519Encoding, x25519 } from '../curves/ed25519-sodium.ts';
import { KAPPA, SEED_BYTES } from './ot-extension.ts';

const Fp = ed25519.Point.Fp;
const Fn = ed25519.Point.Fn;
const L = Fn.ORDER;

/** The RFC 7748 clamped scalar of a 32-byte X25519 private key, reduced mod ℓ. */
function clampedScalar(k: Uint8Array): bigint {
  const c = Uint8Array.from(k);
  c[0]! &= 248;
  c[31]! &= 127;
  c[31]! |= 64;
  const x = bytesToNumberLE(c) % L;
  c.fill(0);
  return x;
}

/**
 * The Montgomery u = (1 + y)/(1 − y) of each valid encoding (none the identity), with one field
 * inversion for all of them (Montgomery's trick).
 */
function montgomeryUs(encodings: readonly Uint8Array[]): Uint8Array[] {
  const ys = encodings.map((e) => {
    const y = Uint8Array.from(e);
    y[31]! &= 0x7f; // the sign of x
    return Fp.fromBytes(y);
  });
  const inverses = Fp.invertBatch(ys.map((y) => Fp.sub(1n, y)));
  return ys.map((y, i) => Fp.toBytes(Fp.mul(Fp.add(1n, y), inverses[i]!)));
}

/** 32 bytes of `ifOne` where bit is 1, of `ifZero` where it is 0, without a branch on the bit. */
function select(bit: number, ifOne: Uint8Array, ifZero: Uint8Array): Uint8Array {
  const mask = -(bit & 1) & 0xff;
  return Uint8Array.from(ifZero, (z, k) => z ^ ((z ^ ifOne[k]!) & mask));
}

/** Public context of one pair's base OTs: session, OT sender, OT receiver. */
export interface BaseOtContext {
  readonly session: Uint8Array;
  readonly sender: number;
  readonly receiver: number;
}

function contextHash(ctx: BaseOtContext, label: string): ReturnType<typeof createHash> {
  const ids = Buffer.alloc(8);
  ids.writeUInt32BE(ctx.sender, 0);
  ids.writeUInt32BE(ctx.receiver, 4);
  return createHash('sha256').update(label).update(ctx.session).update(ids);
}

function otKey(ctx: BaseOtContext, index: number, a: Uint8Array, b: Uint8Array, shared: Uint8Array): Uint8Array {
  const idx = Buffer.alloc(4);
  idx.writeUInt32BE(index);
  return new Uint8Array(contextHash(ctx, 'mpc/dkls23/base-ot-key/v1').update(idx).update(a).update(b).update(shared).digest().subarray(0, SEED_BYTES));
}

function proofChallenge(ctx: BaseOtContext, a: Uint8Array, r: Uint8Array): bigint {
  return bytesToNumberLE(new Uint8Array(createHash('sha512').update(contextHash(ctx, 'mpc/dkls23/base-ot-pok/v1').update(a).update(r).digest()).digest())) % L;
}

/** The OT sender's first message: A = a·G and a Schnorr proof of knowledge of a. */
export interface SenderHello {
  readonly a: Uint8Array; // 32-byte Edwards encoding
  readonly proof: Uint8Array; // R (32) ‖ z (32, little-endian)
}

/** The OT sender's secret between its hello and the receiver's answer: wipe `privateKey` after `senderKeys`. */
export interface SenderSecret {
  readonly privateKey: Uint8Array; // 32-byte X25519 private key a
  readonly a: Uint8Array; // A's encoding
}

export function senderHello(ctx: BaseOtContext, rng: (n: number) => Uint8Array): { hello: SenderHello; secret: SenderSecret } {
  const privateKey = Uint8Array.from(rng(32));
  const s = clampedScalar(privateKey);
  const a = ed25519BaseMul(s);
  const k = bytesToNumberLE(rng(64)) % L || 1n;
  const r = ed25519BaseMul(k);
  const z = (k + proofChallenge(ctx, a, r) * s) % L;
  const proof = new Uint8Array(64);
  proof.set(r);
  proof.set(Fn.toBytes(z), 32);
  return { hello: { a, proof }, secret: { privateKey, a } };
}

/**
 * Receiver: whether the sender's A is a valid element with a valid proof of knowledge (z·G =
 * R + c·A); false means the sender cheated (or drew a zero z or c, probability 2^-252).
 */
export function checkSenderHello(ctx: BaseOtContext, hello: SenderHello): boolean {
  const R = hello.proof.subarray(0, 32);
  if (hello.a.length !== 32 || hello.proof.length !== 64 || !isValidEd25519Encoding(hello.a) || !isValidEd25519Encoding(R)) return false;
  const z = bytesToNumberLE(hello.proof.subarray(32));
  const c = proofChallenge(ctx, hello.a, R);
  if (z === 0n || z >= L || c === 0n) return false;
  const cA = Ed25519Encoded.of(hello.a).multiplyPublic(c);
  return !!cA && constantTimeEqual(ed25519BaseMul(z), Ed25519Encoded.of(R).add(cA).toBytes());
}

/**
 * Receiver: for choice bits `choices` (KAPPA bits, LSB first) sends B_1..B_κ and keeps k_{c_i}.
 * `senderA` is a hello `checkSenderHello` accepted.
 */
export function receiverChoose(ctx: BaseOtContext, senderA: Uint8Array, choices: Uint8Array, rng: (n: number) => Uint8Array): { bs: Uint8Array; seeds: Uint8Array } {
  const [uA] = montgomeryUs([senderA]) as [Uint8Array];
  const A = Ed25519Encoded.of(senderA);
  const bs = new Uint8Array(32 * KAPPA);
  const seeds = new Uint8Array(SEED_BYTES * KAPPA);
  for (let i = 0; i < KAPPA; i++) {
    const privateKey = Uint8Array.from(rng(32));
    const bG = ed25519BaseMul(clampedScalar(privateKey));
    // Both candidates are computed and one is taken by mask: the choice bit is secret.
    const bBytes = select((choices[i >>> 3]! >>> (i & 7)) & 1, Ed25519Encoded.of(bG).add(A).toBytes(), bG);
    bs.set(bBytes, 32 * i);
    const shared = x25519(privateKey, uA);
    privateKey.fill(0);
    if (!shared) throw new Error('base OT: degenerate sender key'); // excluded by checkSenderHello
    seeds.set(otKey(ctx, i, senderA, bBytes, shared), SEED_BYTES * i);
    shared.fill(0);
  }
  return { bs, seeds };
}

/** Sender: both keys of every OT, or undefined when some B_i or B_i − A is not a valid element (receiver cheated). */
export function senderKeys(ctx: BaseOtContext, secret: SenderSecret, bs: Uint8Array): { seeds0: Uint8Array; seeds1: Uint8Array } | undefined {
  if (bs.length !== 32 * KAPPA) return undefined;
  const A = Ed25519Encoded.of(secret.a);
  const points: Uint8Array[] = [];
  for (let i = 0; i < KAPPA; i++) {
    const b = bs.subarray(32 * i, 32 * (i + 1));
    if (!isValidEd25519Encoding(b)) return undefined;
    // Both of prime order, so B − A is too, or the identity (B = A), which has no u-coordinate.
    const bMinusA = Ed25519Encoded.of(b).subtract(A);
    if (bMinusA.isZero()) return undefined;
    points.push(b, bMinusA.toBytes());
  }
  const us = montgomeryUs(points);
  const seeds0 = new Uint8Array(SEED_BYTES * KAPPA);
  const seeds1 = new Uint8Array(SEED_BYTES * KAPPA);
  for (let i = 0; i < KAPPA; i++) {
    const bBytes = bs.subarray(32 * i, 32 * (i + 1));
    const s0 = x25519(secret.privateKey, us[2 * i]!);
    const s1 = x25519(secret.privateKey, us[2 * i + 1]!);
    if (!s0 || !s1) return undefined;
    seeds0.set(otKey(ctx, i, secret.a, bBytes, s0), SEED_BYTES * i);
    seeds1.set(otKey(ctx, i, secret.a, bBytes, s1), SEED_BYTES * i);
    s0.fill(0);
    s1.fill(0);
  }
  return { seeds0, seeds1 };
}
