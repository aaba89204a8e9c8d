/**
 * edwards25519 through libsodium (its ref10 arithmetic, native: sodium-native-module.ts): what
 * noble's bigint arithmetic made the largest costs of a node's Ed25519 signature. Here, ~0.016
 * against noble's ~0.6 ms for a secret base multiplication, ~0.04 against ~0.37 ms (noble's
 * decoding and our X25519-ladder subgroup check) to validate a point, ~0.08 against ~0.65 ms
 * (X25519 ladders through OpenSSL) for a public multiple of a point; about half what the same
 * calls cost in libsodium's WebAssembly build, which this used before.
 *
 * - `ed25519BaseMul`, x·B for a secret x (FROST's nonce commitments D = d·B and E = e·B):
 *   libsodium's constant-time fixed-base multiplication, on a scalar buffer wiped once the
 *   product is out (the binding works on it in place; no other copy is made).
 * - `isValidEd25519Encoding`, `inPrimeOrderSubgroup`: libsodium's `is_valid_point` (canonical
 *   encoding, on the curve, [L]·P = O, not of small order), RFC 9591's DeserializeElement.
 * - `Ed25519Encoded`, points kept as their encodings, with libsodium's addition and its
 *   multiplication of a validated point by a public scalar (variable time is fine: the FROST
 *   group commitment's inputs are all public).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sodiumNative as lib } from './sodium-native-module.ts';

const Fn = ed25519.Point.Fn;

/** The 32-byte encoding of x·B, for x in [1, L). */
export function ed25519BaseMul(x: bigint): Uint8Array {
  if (x === 0n || !Fn.isValid(x)) throw new RangeError('scalar out of range for a base multiplication');
  const secret = Fn.toBytes(x);
  try {
    // Cannot fail for x in [1, L): B has order L.
    const product = new Uint8Array(32);
    lib.crypto_scalarmult_ed25519_base_noclamp(product, secret);
    return product;
  } finally {
    secret.fill(0);
  }
}

/** Whether 32 bytes are RFC 9591's valid element: canonical, on the curve, of prime order L (so not the identity). */
export function isValidEd25519Encoding(b: Uint8Array): boolean {
  return b.length === 32 && lib.crypto_core_ed25519_is_valid_point(b);
}

type EdPoint = InstanceType<typeof ed25519.Point>;

/** Whether a point (on the curve) lies in the subgroup of prime order L: [L]·P = O. `encoding` is its canonical encoding, when the caller has it. */
export function inPrimeOrderSubgroup(point: EdPoint, encoding: Uint8Array = point.toBytes()): boolean {
  // is_valid_point refuses every point of small order, the identity among them.
  return point.is0() || isValidEd25519Encoding(encoding);
}

const IDENTITY = Uint8Array.of(1, ...new Array<number>(31).fill(0));

/**
 * An edwards25519 point as its 32-byte encoding, for sums and public multiples of points already
 * validated (`isValidEd25519Encoding`); libsodium decodes each operand as it goes, which costs
 * less than one field inversion in bigints.
 */
export class Ed25519Encoded {
  static readonly ZERO = new Ed25519Encoded(IDENTITY);
  private readonly bytes: Uint8Array;
  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  /** The point of a validated encoding (the caller has checked it). */
  static of(validated: Uint8Array): Ed25519Encoded {
    return new Ed25519Encoded(Uint8Array.from(validated));
  }
  add(other: Ed25519Encoded): Ed25519Encoded {
    if (this === Ed25519Encoded.ZERO) return other;
    if (other === Ed25519Encoded.ZERO) return this;
    const sum = new Uint8Array(32);
    lib.crypto_core_ed25519_add(sum, this.bytes, other.bytes);
    return new Ed25519Encoded(sum);
  }
  subtract(other: Ed25519Encoded): Ed25519Encoded {
    if (other === Ed25519Encoded.ZERO) return this;
    const difference = new Uint8Array(32);
    lib.crypto_core_ed25519_sub(difference, this.bytes, other.bytes);
    return new Ed25519Encoded(difference);
  }
  /** Whether this is the identity (encodings are canonical). */
  isZero(): boolean {
    return this.bytes.every((b, i) => b === IDENTITY[i]);
  }
  /**
   * s·P for a public s in [1, L), or undefined where libsodium refuses: the product is the
   * identity, or P is not of prime order (which a validated point is).
   */
  multiplyPublic(s: bigint): Ed25519Encoded | undefined {
    if (s <= 0n || !Fn.isValid(s)) return undefined;
    const product = new Uint8Array(32);
    try {
      lib.crypto_scalarmult_ed25519_noclamp(product, Fn.toBytes(s), this.bytes);
      return new Ed25519Encoded(product);
    } catch {
      return undefined;
    }
  }
  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}
