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
 * The group is edwards25519 and every scalar multiplication is native X25519 (node:crypto,
 * OpenSSL): X25519 of a clamped scalar kills any small-order component, and the
 * Montgomery u-coordinate is sign-blind, so B's ± ambiguity after u→Edwards does not matter.
 * Only the point additions use noble. A DH result of all zeros (low-order input) is rejected.
 */
import { createHash, diffieHellman, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { rawX25519PublicKey, x25519PrivateKey, x25519PublicKey } from '../curves/curve25519-keys.ts';
import { constantTimeEqual } from '../core/transcript.ts';
import { KAPPA, SEED_BYTES } from './ot-extension.ts';

const Point = ed25519.Point;
type EdPoint = InstanceType<typeof Point>;
const Fp = Point.Fp;
const L = Point.Fn.ORDER;

/** X25519(k, u), or undefined for a low-order u (all-zero result). */
function dh(k: KeyObject, u: Uint8Array): Uint8Array | undefined {
  try {
    const s = new Uint8Array(diffieHellman({ privateKey: k, publicKey: x25519PublicKey(u) }));
    return s.some((x) => x !== 0) ? s : undefined;
  } catch {
    return undefined;
  }
}

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
 * Montgomery u = (1 + y)/(1 − y) = (Z + Y)/(Z − Y) of each point (none the identity), with one
 * field inversion for all of them (Montgomery's trick): inversions were a seventh of key generation.
 */
function montgomeryUs(points: readonly EdPoint[]): Uint8Array[] {
  const inverses = Fp.invertBatch(points.map((p) => Fp.sub(p.Z, p.Y)));
  return points.map((p, i) => Fp.toBytes(Fp.mul(Fp.add(p.Z, p.Y), inverses[i]!)));
}

/** Some Edwards point with each Montgomery coordinate u, y = (u − 1)/(u + 1) (the sign of x is irrelevant here). */
function edwardsFromUs(us: readonly Uint8Array[]): EdPoint[] {
  const inverses = Fp.invertBatch(us.map((u) => Fp.add(Fp.fromBytes(u), 1n)));
  return us.map((u, i) => Point.fromBytes(Fp.toBytes(Fp.mul(Fp.sub(Fp.fromBytes(u), 1n), inverses[i]!))));
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

export interface SenderSecret {
  readonly key: KeyObject;
  readonly a: Uint8Array;
  readonly point: EdPoint;
}

export function senderHello(ctx: BaseOtContext, rng: (n: number) => Uint8Array): { hello: SenderHello; secret: SenderSecret } {
  const raw = Uint8Array.from(rng(32));
  const key = x25519PrivateKey(raw);
  const s = clampedScalar(raw);
  raw.fill(0);
  const point = Point.BASE.multiply(s);
  const a = point.toBytes();
  const k = bytesToNumberLE(rng(64)) % L || 1n;
  const r = Point.BASE.multiply(k).toBytes();
  const z = (k + proofChallenge(ctx, a, r) * s) % L;
  const proof = new Uint8Array(64);
  proof.set(r);
  proof.set(Point.Fn.toBytes(z), 32);
  return { hello: { a, proof }, secret: { key, a, point } };
}

/** Receiver: checks the sender's A and proof; returns the parsed point or undefined (sender cheated). */
export function checkSenderHello(ctx: BaseOtContext, hello: SenderHello): EdPoint | undefined {
  try {
    const a = Point.fromBytes(hello.a);
    if (a.isSmallOrder() || !a.isTorsionFree() || !constantTimeEqual(a.toBytes(), hello.a)) return undefined;
    const r = Point.fromBytes(hello.proof.subarray(0, 32));
    const z = bytesToNumberLE(hello.proof.subarray(32));
    if (z >= L) return undefined;
    const c = proofChallenge(ctx, hello.a, hello.proof.subarray(0, 32));
    return Point.BASE.multiply(z || L).equals(r.add(a.multiply(c || L))) || (z === 0n && c === 0n) ? a : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Receiver: for choice bits `choices` (KAPPA bits, LSB first) sends B_1..B_κ and keeps k_{c_i}.
 */
export function receiverChoose(
  ctx: BaseOtContext,
  senderPoint: EdPoint,
  senderA: Uint8Array,
  choices: Uint8Array,
  rng: (n: number) => Uint8Array,
): { bs: Uint8Array; seeds: Uint8Array } {
  const [uA] = montgomeryUs([senderPoint]) as [Uint8Array];
  const bs = new Uint8Array(32 * KAPPA);
  const seeds = new Uint8Array(SEED_BYTES * KAPPA);
  const keys = Array.from({ length: KAPPA }, () => {
    const raw = Uint8Array.from(rng(32));
    const key = x25519PrivateKey(raw);
    raw.fill(0);
    return key;
  });
  const points = edwardsFromUs(keys.map(rawX25519PublicKey));
  for (let i = 0; i < KAPPA; i++) {
    const key = keys[i]!;
    let b = points[i]!;
    if ((choices[i >>> 3]! >>> (i & 7)) & 1) b = b.add(senderPoint);
    const bBytes = b.toBytes();
    bs.set(bBytes, 32 * i);
    const shared = dh(key, uA);
    if (!shared) throw new Error('base OT: degenerate sender key'); // excluded by checkSenderHello
    seeds.set(otKey(ctx, i, senderA, bBytes, shared), SEED_BYTES * i);
    shared.fill(0);
  }
  return { bs, seeds };
}

/** Sender: both keys of every OT, or undefined when some B_i is invalid (receiver cheated). */
export function senderKeys(ctx: BaseOtContext, secret: SenderSecret, bs: Uint8Array): { seeds0: Uint8Array; seeds1: Uint8Array } | undefined {
  if (bs.length !== 32 * KAPPA) return undefined;
  const seeds0 = new Uint8Array(SEED_BYTES * KAPPA);
  const seeds1 = new Uint8Array(SEED_BYTES * KAPPA);
  const points: EdPoint[] = [];
  for (let i = 0; i < KAPPA; i++) {
    let b: EdPoint;
    try {
      b = Point.fromBytes(bs.subarray(32 * i, 32 * (i + 1)));
    } catch {
      return undefined;
    }
    if (b.is0() || b.isSmallOrder()) return undefined;
    const bMinusA = b.subtract(secret.point);
    if (bMinusA.is0() || bMinusA.isSmallOrder()) return undefined;
    points.push(b, bMinusA);
  }
  const us = montgomeryUs(points);
  for (let i = 0; i < KAPPA; i++) {
    const bBytes = bs.subarray(32 * i, 32 * (i + 1));
    const s0 = dh(secret.key, us[2 * i]!);
    const s1 = dh(secret.key, us[2 * i + 1]!);
    if (!s0 || !s1) return undefined;
    seeds0.set(otKey(ctx, i, secret.a, bBytes, s0), SEED_BYTES * i);
    seeds1.set(otKey(ctx, i, secret.a, bBytes, s1), SEED_BYTES * i);
    s0.fill(0);
    s1.fill(0);
  }
  return { seeds0, seeds1 };
}
