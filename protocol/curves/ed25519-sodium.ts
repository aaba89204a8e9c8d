/**
 * edwards25519 through libsodium (its ref10 arithmetic, compiled to WebAssembly): what noble's
 * bigint arithmetic made the largest costs of a node's Ed25519 signature. Here, ~0.06 against
 * noble's ~0.6 ms for a secret base multiplication, ~0.13 against ~0.37 ms (noble's decoding and
 * our X25519-ladder subgroup check) to validate a point, ~0.3 against ~0.65 ms (X25519 ladders
 * through OpenSSL) for a public multiple of a point.
 *
 * - `ed25519BaseMul`, x·B for a secret x (FROST's nonce commitments D = d·B and E = e·B):
 *   libsodium's constant-time fixed-base multiplication. The scalar is copied into the module's
 *   memory and wiped there once the product is out: libsodium.js's own wrapper functions free
 *   their copies without wiping, so this one calls the module's exports directly.
 * - `isValidEd25519Encoding`, `inPrimeOrderSubgroup`: libsodium's `is_valid_point` (canonical
 *   encoding, on the curve, [L]·P = O, not of small order), RFC 9591's DeserializeElement.
 * - `Ed25519Encoded`, points kept as their encodings, with libsodium's addition and its
 *   multiplication of a validated point by a public scalar (variable time is fine: the FROST
 *   group commitment's inputs are all public).
 * - `x25519`, RFC 7748's function for a secret key, wiped like `ed25519BaseMul`'s scalar
 *   (DKLs23's base OTs).
 */
import sodium from 'libsodium-wrappers-sumo';
import { ed25519 } from '@noble/curves/ed25519.js';

/** The exports of the libsodium WebAssembly module `ed25519BaseMul` uses (libsodium.js leaves them untyped). */
interface SodiumModule {
  /** The module's memory; replaced when it grows, so read it after every call that may allocate. */
  readonly HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(address: number): void;
  /** q = n·B for a 32-byte little-endian n < 2^255 (no clamping); −1 when q is the identity. */
  _crypto_scalarmult_ed25519_base_noclamp(q: number, n: number): number;
  /** q = X25519(n, p) (RFC 7748: n clamped, p a Montgomery u-coordinate); −1 when q is all zeros. */
  _crypto_scalarmult(q: number, n: number, p: number): number;
}

await sodium.ready;
const exported = (sodium as unknown as { readonly libsodium?: Partial<SodiumModule> }).libsodium;
if (typeof exported?._crypto_scalarmult_ed25519_base_noclamp !== 'function' || typeof exported._crypto_scalarmult !== 'function' || typeof exported._malloc !== 'function' || typeof exported._free !== 'function') {
  throw new Error('libsodium-wrappers-sumo no longer exposes its module: ed25519-sodium.ts needs updating');
}
const lib = exported as SodiumModule;

const Fn = ed25519.Point.Fn;

/**
 * Runs a libsodium export on `inputs` copied into the module's memory, with a 32-byte output
 * placed after them: the output, or undefined when the export returns non-zero. Everything put
 * in the module's memory is wiped before it is freed (libsodium.js's own wrappers free their
 * copies without wiping), so a secret input or result leaves no copy there.
 */
function callWiped(inputs: readonly Uint8Array[], run: (out: number, ...inputs: number[]) => number): Uint8Array | undefined {
  const size = inputs.reduce((n, b) => n + b.length, 32);
  const address = lib._malloc(size);
  if (address === 0) throw new Error('libsodium: out of memory');
  try {
    const at: number[] = [];
    let next = address;
    for (const b of inputs) {
      lib.HEAPU8.set(b, next);
      at.push(next);
      next += b.length;
    }
    if (run(next, ...at) !== 0) return undefined;
    return lib.HEAPU8.slice(next, next + 32);
  } finally {
    lib.HEAPU8.fill(0, address, address + size);
    lib._free(address);
  }
}

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

/**
 * X25519(k, u) of RFC 7748 for a secret 32-byte private key k (clamped inside) and a public
 * u-coordinate, or undefined when the result is all zeros (u of small order). The key and the
 * shared value are wiped in the module's memory, as in `ed25519BaseMul`.
 */
export function x25519(privateKey: Uint8Array, u: Uint8Array): Uint8Array | undefined {
  if (privateKey.length !== 32 || u.length !== 32) throw new RangeError('X25519 takes a 32-byte key and a 32-byte u-coordinate');
  return callWiped([privateKey, u], (q, n, p) => lib._crypto_scalarmult(q, n!, p!));
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
