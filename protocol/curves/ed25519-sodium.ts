/**
 * edwards25519 through libsodium (its ref10 arithmetic, compiled to WebAssembly): what noble's
 * bigint arithmetic made the largest costs of a node's Ed25519 signature. Here, ~0.06 against
 * noble's ~0.6 ms for a secret base multiplication, ~0.13 against ~0.37 ms (noble's decoding and
 * our X25519-ladder subgroup check) to validate a point, ~0.3 against ~0.65 ms (X25519 ladders
 * through OpenSSL) for a public multiple of a point.
 *
 * - `ed25519BaseMul`, x·B for a secret x (FROST's nonce commitments D = d·B and E = e·B):
 *   libsodium's constant-time fixed-base multiplication, the scalar wiped in the module's memory
 *   once the product is out (sodium-module.ts).
 * - `isValidEd25519Encoding`, `inPrimeOrderSubgroup`: libsodium's `is_valid_point` (canonical
 *   encoding, on the curve, [L]·P = O, not of small order), RFC 9591's DeserializeElement.
 * - `Ed25519Encoded`, points kept as their encodings, with libsodium's addition and its
 *   multiplication of a validated point by a public scalar (variable time is fine: the FROST
 *   group commitment's inputs are all public).
 */
import sodium from 'libsodium-wrappers-sumo';
import { ed25519 } from '@noble/curves/ed25519.js';
import { callWiped, sodiumModule } from './sodium-module.ts';

// sodium-module.ts has awaited libsodium's start-up.
const lib = sodiumModule;

const Fn = ed25519.Point.Fn;

/** The 32-byte encoding of x·B, for x in [1, L). */
export function ed25519BaseMul(x: bigint): Uint8Array {
  if (x === 0n || !Fn.isValid(x)) throw new RangeError('scalar out of range for a base multiplication');
  const secret = Fn.toBytes(x);
  try {
    const product = callWiped([secret], (q, n) => lib._crypto_scalarmult_ed25519_base_noclamp(q, n!));
    // Cannot fail for x in [1, L): B has order L.
    if (!product) throw new Error('libsodium refused a base multiplication');
    return product;
  } finally {
    secret.fill(0);
  }
}

/** Whether 32 bytes are RFC 9591's valid element: canonical, on the curve, of prime order L (so not the identity). */
export function isValidEd25519Encoding(b: Uint8Array): boolean {
  return b.length === 32 && sodium.crypto_core_ed25519_is_valid_point(b);
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
    return new Ed25519Encoded(sodium.crypto_core_ed25519_add(this.bytes, other.bytes));
  }
  subtract(other: Ed25519Encoded): Ed25519Encoded {
    if (other === Ed25519Encoded.ZERO) return this;
    return new Ed25519Encoded(sodium.crypto_core_ed25519_sub(this.bytes, other.bytes));
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
    try {
      return new Ed25519Encoded(sodium.crypto_scalarmult_ed25519_noclamp(Fn.toBytes(s), this.bytes));
    } catch {
      return undefined;
    }
  }
  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}
