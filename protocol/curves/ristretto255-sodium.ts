/**
 * ristretto255 (RFC 9496) through libsodium: the prime-order group built on edwards25519, for
 * DKLs23's base OTs. Its encodings name group elements one to one, so checking a received element
 * is decoding it (~0.01 ms here), where an edwards25519 point needs its subgroup checked by a
 * multiplication by L (~0.1 ms); and the group's operations give whole elements, so a multiple
 * can be subtracted from another (X25519 gives only u-coordinates).
 *
 * Every operation whose scalar or result may be secret runs through `callWiped`
 * (sodium-module.ts), and every batch of them ends with a clearing run (below): nothing of a
 * secret is left in the module's memory. libsodium's multiplications are its constant-time ones.
 * The identity is refused wherever an element is received: it has an encoding (all zeros) that
 * libsodium's `is_valid_point` accepts.
 */
import sodium from 'libsodium-wrappers-sumo';
import { ed25519, ristretto255 } from '@noble/curves/ed25519.js';
import { callWiped, sodiumModule } from './sodium-module.ts';

const lib = sodiumModule;
const Fn = ed25519.Point.Fn;

/** Bytes of an encoded element and of a scalar. */
export const RISTRETTO_BYTES = 32;

const isIdentity = (b: Uint8Array): boolean => b.every((x) => x === 0);

/** Whether 32 bytes are the canonical encoding of an element other than the identity. */
export function isValidRistrettoElement(b: Uint8Array): boolean {
  return b.length === RISTRETTO_BYTES && !isIdentity(b) && sodium.crypto_core_ristretto255_is_valid_point(b);
}

function checkScalar(x: bigint): void {
  if (x === 0n || !Fn.isValid(x)) throw new RangeError('scalar out of range for a ristretto255 multiplication');
}

/** Runs `f` on x's 32 little-endian bytes, x in [1, L), and wipes them after. */
function withScalar<T>(x: bigint, f: (bytes: Uint8Array) => T): T {
  checkScalar(x);
  const bytes = Fn.toBytes(x);
  try {
    return f(bytes);
  } finally {
    bytes.fill(0);
  }
}

/** Public inputs of the clearing runs. */
const BASE = ristretto255.Point.BASE.toBytes();
const ONE = Fn.toBytes(1n);

/*
 * libsodium's exports leave parts of what they computed on their own stack in the module's
 * memory, where `callWiped` cannot reach: the result's encoding as it checks a sign
 * (`fe25519_isnegative`), a multiplication's digits. Every run of an export entered from JavaScript
 * starts at the same depth and, being constant-time code, writes the same places; so after a
 * batch of secret runs, one more run of the same export on public inputs leaves nothing of them.
 */

/** x_i·B for every x_i in [1, L), in constant time, then one clearing run. */
export function ristrettoBaseMulAll(xs: readonly bigint[]): Uint8Array[] {
  xs.forEach(checkScalar);
  try {
    return xs.map((x) => {
      const product = withScalar(x, (n) => callWiped([n], (q, at) => lib._crypto_scalarmult_ristretto255_base(q, at!)));
      // Cannot fail for x in [1, L): B has order L.
      if (!product) throw new Error('libsodium refused a ristretto255 base multiplication');
      return product;
    });
  } finally {
    callWiped([ONE], (q, at) => lib._crypto_scalarmult_ristretto255_base(q, at!));
  }
}

/** x·B for x in [1, L), in constant time. */
export const ristrettoBaseMul = (x: bigint): Uint8Array => ristrettoBaseMulAll([x])[0]!;

/**
 * x_i·P_i for every pair, x_i in [1, L) and P_i a valid element, in constant time, then one
 * clearing run; undefined when some P_i is not a valid element.
 */
export function ristrettoMulAll(terms: readonly (readonly [bigint, Uint8Array])[]): Uint8Array[] | undefined {
  terms.forEach(([x]) => checkScalar(x));
  if (!terms.every(([, point]) => isValidRistrettoElement(point))) return undefined;
  try {
    return terms.map(([x, point]) => {
      const product = withScalar(x, (n) => callWiped([n, point], (q, at, p) => lib._crypto_scalarmult_ristretto255(q, at!, p!)));
      // Cannot fail: P_i has order L and x_i is in [1, L).
      if (!product) throw new Error('libsodium refused a ristretto255 multiplication');
      return product;
    });
  } finally {
    callWiped([ONE, BASE], (q, at, p) => lib._crypto_scalarmult_ristretto255(q, at!, p!));
  }
}

/** x·P for x in [1, L) and P a valid element, in constant time; undefined when P is not one. */
export const ristrettoMul = (x: bigint, point: Uint8Array): Uint8Array | undefined => ristrettoMulAll([[x, point]])?.[0];

type CoreOp = (r: number, p: number, q: number) => number;
const add: CoreOp = (r, p, q) => lib._crypto_core_ristretto255_add(r, p, q);
const sub: CoreOp = (r, p, q) => lib._crypto_core_ristretto255_sub(r, p, q);

/** `op`(p_i, q) for every p_i, wiped, then one clearing run; undefined when any operand is no valid encoding. */
function coreOpEach(op: CoreOp, ps: readonly Uint8Array[], q: Uint8Array): Uint8Array[] | undefined {
  if (q.length !== RISTRETTO_BYTES || ps.some((p) => p.length !== RISTRETTO_BYTES)) return undefined;
  const out: Uint8Array[] = [];
  try {
    for (const p of ps) {
      const r = callWiped([p, q], (at, a, b) => op(at, a!, b!));
      if (!r) {
        for (const x of out) x.fill(0);
        return undefined;
      }
      out.push(r);
    }
    return out;
  } finally {
    callWiped([BASE, BASE], (at, a, b) => op(at, a!, b!));
  }
}

/** P + Q of valid elements (the identity included), or undefined when either is no valid encoding. */
export const ristrettoAdd = (p: Uint8Array, q: Uint8Array): Uint8Array | undefined => coreOpEach(add, [p], q)?.[0];

/** P − Q of valid elements (the identity included), or undefined when either is no valid encoding. */
export const ristrettoSub = (p: Uint8Array, q: Uint8Array): Uint8Array | undefined => coreOpEach(sub, [p], q)?.[0];

/** P_i + Q for every P_i, with one clearing run for all of them. */
export const ristrettoAddToEach = (ps: readonly Uint8Array[], q: Uint8Array): Uint8Array[] | undefined => coreOpEach(add, ps, q);

/** P_i − Q for every P_i, with one clearing run for all of them. */
export const ristrettoSubFromEach = (ps: readonly Uint8Array[], q: Uint8Array): Uint8Array[] | undefined => coreOpEach(sub, ps, q);
