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
 * The group is ristretto255 (RFC 9496) and its arithmetic libsodium's (ristretto255-sodium.ts):
 * a received element is checked by decoding it, and the sender gets a·(B − A) as a·B − T with
 * T = a·A computed once, one multiplication per OT instead of two. a, b and every product with
 * them are secret: libsodium's constant-time multiplications, wiped in the module's memory.
 * Every element received must be canonical and not the identity; B = A is refused (its second
 * key would be H(identity)).
 */
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { constantTimeEqual, zeroize } from '../core/transcript.ts';
import { isValidRistrettoElement, ristrettoAdd, ristrettoAddToEach, ristrettoBaseMul, ristrettoBaseMulAll, ristrettoMul, ristrettoMulAll, ristrettoSubFromEach } from '../curves/ristretto255-sodium.ts';
import { KAPPA, SEED_BYTES } from './ot-extension.ts';

const Fn = ed25519.Point.Fn;
const L = Fn.ORDER;

/** A uniform secret scalar in [1, L) from 64 random bytes (bias below 2^-250). */
function randomScalar(rng: (n: number) => Uint8Array): bigint {
  for (;;) {
    const x = bytesToNumberLE(rng(64)) % L;
    if (x !== 0n) return x;
  }
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
  return new Uint8Array(contextHash(ctx, 'mpc/dkls23/base-ot-key/v2').update(idx).update(a).update(b).update(shared).digest().subarray(0, SEED_BYTES));
}

function proofChallenge(ctx: BaseOtContext, a: Uint8Array, r: Uint8Array): bigint {
  return bytesToNumberLE(new Uint8Array(createHash('sha512').update(contextHash(ctx, 'mpc/dkls23/base-ot-pok/v2').update(a).update(r).digest()).digest())) % L;
}

/** The OT sender's first message: A = a·G and a Schnorr proof of knowledge of a. */
export interface SenderHello {
  readonly a: Uint8Array; // 32-byte ristretto255 encoding
  readonly proof: Uint8Array; // R (32) ‖ z (32, little-endian)
}

/** The OT sender's secret between its hello and the receiver's answer: wipe `scalar` after `senderKeys`. */
export interface SenderSecret {
  readonly scalar: Uint8Array; // a, 32 bytes little-endian
  readonly a: Uint8Array; // A's encoding
}

export function senderHello(ctx: BaseOtContext, rng: (n: number) => Uint8Array): { hello: SenderHello; secret: SenderSecret } {
  const s = randomScalar(rng);
  const a = ristrettoBaseMul(s);
  const k = randomScalar(rng);
  const r = ristrettoBaseMul(k);
  const z = (k + proofChallenge(ctx, a, r) * s) % L;
  const proof = new Uint8Array(64);
  proof.set(r);
  proof.set(Fn.toBytes(z), 32);
  return { hello: { a, proof }, secret: { scalar: Fn.toBytes(s), a } };
}

/**
 * Receiver: whether the sender's A is a valid element with a valid proof of knowledge (z·G =
 * R + c·A); false means the sender cheated (or drew a zero z or c, probability 2^-252).
 */
export function checkSenderHello(ctx: BaseOtContext, hello: SenderHello): boolean {
  if (hello.proof.length !== 64) return false;
  const R = hello.proof.subarray(0, 32);
  if (!isValidRistrettoElement(hello.a) || !isValidRistrettoElement(R)) return false;
  const z = bytesToNumberLE(hello.proof.subarray(32));
  const c = proofChallenge(ctx, hello.a, R);
  if (z === 0n || z >= L || c === 0n) return false;
  const cA = ristrettoMul(c, hello.a);
  const rhs = cA && ristrettoAdd(R, cA);
  return !!rhs && constantTimeEqual(ristrettoBaseMul(z), rhs);
}

/**
 * Receiver: for choice bits `choices` (KAPPA bits, LSB first) sends B_1..B_κ and keeps k_{c_i}.
 * `senderA` is a hello `checkSenderHello` accepted.
 */
export function receiverChoose(ctx: BaseOtContext, senderA: Uint8Array, choices: Uint8Array, rng: (n: number) => Uint8Array): { bs: Uint8Array; seeds: Uint8Array } {
  if (!isValidRistrettoElement(senderA)) throw new Error('base OT: the sender\'s A is not a valid element'); // excluded by checkSenderHello
  const scalars = Array.from({ length: KAPPA }, () => randomScalar(rng));
  const bGs = ristrettoBaseMulAll(scalars);
  const bPlusAs = ristrettoAddToEach(bGs, senderA)!; // all valid encodings
  const shared = ristrettoMulAll(scalars.map((b) => [b, senderA] as const))!; // b·A: A valid, b in [1, L)
  const bs = new Uint8Array(32 * KAPPA);
  const seeds = new Uint8Array(SEED_BYTES * KAPPA);
  for (let i = 0; i < KAPPA; i++) {
    // Both candidates were computed and one is taken by mask: the choice bit is secret.
    const bBytes = select((choices[i >>> 3]! >>> (i & 7)) & 1, bPlusAs[i]!, bGs[i]!);
    bs.set(bBytes, 32 * i);
    seeds.set(otKey(ctx, i, senderA, bBytes, shared[i]!), SEED_BYTES * i);
  }
  zeroize(...bGs, ...bPlusAs, ...shared);
  return { bs, seeds };
}

/** Sender: both keys of every OT, or undefined when some B_i is not a valid element or is A (receiver cheated). */
export function senderKeys(ctx: BaseOtContext, secret: SenderSecret, bs: Uint8Array): { seeds0: Uint8Array; seeds1: Uint8Array } | undefined {
  if (bs.length !== 32 * KAPPA) return undefined;
  for (let i = 0; i < KAPPA; i++) {
    const b = bs.subarray(32 * i, 32 * (i + 1));
    // Encodings are canonical, so B = A exactly when the bytes are equal.
    if (!isValidRistrettoElement(b) || constantTimeEqual(b, secret.a)) return undefined;
  }
  const a = bytesToNumberLE(secret.scalar);
  const points = [secret.a, ...Array.from({ length: KAPPA }, (_, i) => bs.subarray(32 * i, 32 * (i + 1)))];
  // T = a·A and every a·B_i, then a·(B_i − A) = a·B_i − T. Every operand is a valid element and a
  // is in [1, L), so none of these fails.
  const [t, ...products] = ristrettoMulAll(points.map((p) => [a, p] as const))! as [Uint8Array, ...Uint8Array[]];
  const minusT = ristrettoSubFromEach(products, t)!;
  const seeds0 = new Uint8Array(SEED_BYTES * KAPPA);
  const seeds1 = new Uint8Array(SEED_BYTES * KAPPA);
  for (let i = 0; i < KAPPA; i++) {
    const bBytes = bs.subarray(32 * i, 32 * (i + 1));
    seeds0.set(otKey(ctx, i, secret.a, bBytes, products[i]!), SEED_BYTES * i);
    seeds1.set(otKey(ctx, i, secret.a, bBytes, minusT[i]!), SEED_BYTES * i);
  }
  zeroize(t, ...products, ...minusT);
  return { seeds0, seeds1 };
}
