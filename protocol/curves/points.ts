/**
 * Point and scalar codecs of the two curves: every point that arrives is checked to be a
 * canonical encoding of a group element, on the curve, in the prime-order subgroup, and not the
 * identity; every scalar to be canonical and reduced. Checks are memoised by encoding (they are
 * deterministic, and the edwards25519 subgroup check costs a scalar multiplication), so the wire
 * codecs, the DKG math and noble's FROST share one check per point. An edwards25519 field of a
 * message is checked by libsodium on its encoding alone (ed25519-sodium.ts), without decoding it
 * into a noble point that FROST signing, which adds and multiplies encodings, would not use.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { custom, type Bytes, type Codec } from '../core/codec.ts';
import { DecodeError } from '../core/errors.ts';
import { BoundedMap } from '../core/bounded-map.ts';
import { inPrimeOrderSubgroup, isValidEd25519Encoding } from './ed25519-sodium.ts';
import { decompressSecp256k1, isValidSecp256k1Encoding } from './secp256k1-libsecp.ts';

interface GroupPoint {
  is0(): boolean;
  assertValidity(): void;
  toBytes(): Uint8Array;
}

/**
 * Parsed points by encoding, per group, once fully validated: the checks are deterministic, so
 * the wire codec and the DKG math (`dkg-math.ts`) share one validation per point and process.
 */
const MAX_VALIDATED = 200_000;

/**
 * edwards25519 encodings known to be of prime order (keyed by hex, '/zip215' appended for a
 * lenient decoding) and known to be valid elements (canonical, of prime order, not the identity).
 * Bounded (cleared when full): fresh nonce commitments arrive with every signature and are
 * re-parsed only within it, while key points come back at once after a clear.
 */
const MAX_MEMOISED = 16_384;
const torsionFree = new BoundedMap<string, true>(MAX_MEMOISED);
const validEd25519Encodings = new BoundedMap<string, true>(MAX_MEMOISED);

export interface PointValidator<P extends GroupPoint> {
  (b: Uint8Array, path: string): P;
}

function pointValidator<P extends GroupPoint>(length: number, parse: (b: Uint8Array) => P, extra?: (p: P) => boolean): PointValidator<P> {
  const validated = new BoundedMap<string, P>(MAX_VALIDATED);
  return (b, path) => {
    const key = Buffer.from(b).toString('hex');
    const hit = validated.get(key);
    if (hit) return hit;
    if (b.length !== length) throw new DecodeError('wrong_length', `${path}: ${b.length} bytes, expected ${length}`);
    let p: P;
    try {
      p = parse(b);
      p.assertValidity();
    } catch {
      throw new DecodeError('invalid_point', `${path}: not a valid group element`);
    }
    if (p.is0()) throw new DecodeError('identity_point', `${path}: identity element`);
    if (extra && !extra(p)) throw new DecodeError('invalid_point', `${path}: not in the prime-order subgroup`);
    // Canonical encoding: re-encoding must give the same bytes.
    const again = p.toBytes();
    if (again.length !== b.length || again.some((x, i) => x !== b[i])) throw new DecodeError('invalid_point', `${path}: non-canonical encoding`);
    validated.set(key, p);
    return p;
  };
}

type EdPoint = ReturnType<typeof ed25519.Point.fromBytes>;
type SecpPoint = ReturnType<typeof secp256k1.Point.fromBytes>;

/** A strictly validated edwards25519 point (canonical, on the curve, prime-order subgroup, not the identity). */
export const validEd25519Point: PointValidator<EdPoint> = pointValidator(32, (b) => MemoisedEd25519Point.fromBytes(b, false), (p) => p.isTorsionFree());
/**
 * A strictly validated secp256k1 point (33-byte compressed SEC1, on the curve, not the identity).
 * libsecp256k1 takes the square root, so noble only reads the uncompressed coordinates (and
 * checks them again); an encoding libsecp256k1 refuses goes to noble's decoding, to say why.
 */
export const validSecp256k1Point: PointValidator<SecpPoint> = pointValidator(33, (b) => secp256k1.Point.fromBytes(decompressSecp256k1(b) ?? b));

/**
 * A validator of encodings by a C library's check (`isValid`), without decoding them into noble
 * points; memoised by encoding (`remember` records one), and when the library refuses one,
 * noble's decoding (`explain`) says why.
 */
function encodingValidator(
  length: number,
  isValid: (b: Uint8Array) => boolean,
  explain: PointValidator<GroupPoint>,
  known: { has(key: string): boolean },
  remember: (key: string) => void,
): (b: Uint8Array, path: string) => Uint8Array {
  return (b, path) => {
    const key = Buffer.from(b).toString('hex');
    if (known.has(key)) return b;
    if (b.length !== length) throw new DecodeError('wrong_length', `${path}: ${b.length} bytes, expected ${length}`);
    if (!isValid(b)) {
      explain(b, path);
      throw new DecodeError('invalid_point', `${path}: not a valid group element`);
    }
    remember(key);
    return b;
  };
}

/**
 * A strictly validated edwards25519 encoding (canonical, on the curve, prime-order subgroup, not
 * the identity), by libsodium (ed25519-sodium.ts).
 */
export const validEd25519Encoding = encodingValidator(32, isValidEd25519Encoding, validEd25519Point, validEd25519Encodings, rememberPrimeOrder);

/** Compressed secp256k1 encodings libsecp256k1 accepted (on the curve, x < p), by hex. */
const validSecp256k1Encodings = new BoundedMap<string, true>(MAX_VALIDATED);

/**
 * A strictly validated secp256k1 encoding (33-byte compressed SEC1, on the curve, so not the
 * point at infinity), by libsecp256k1 (secp256k1-libsecp.ts).
 */
export const validSecp256k1Encoding = encodingValidator(33, isValidSecp256k1Encoding, validSecp256k1Point, validSecp256k1Encodings, (key) => validSecp256k1Encodings.set(key, true));

/** A point field of a message: `length` bytes that `validate` accepts. */
export function pointCodec(length: number, validate: (b: Uint8Array, path: string) => unknown): Codec<Bytes> {
  return custom<Bytes>(
    (b) => b,
    (b, path) => {
      validate(b, path);
      return b;
    },
    length,
  );
}

/** A canonical scalar in [0, order) of the field `Fn`. */
export function scalarCodec(Fn: { fromBytes(b: Uint8Array): bigint; isValid(n: bigint): boolean }, length: number): Codec<Bytes> {
  return custom<Bytes>(
    (b) => b,
    (b, path) => {
      let n: bigint;
      try {
        n = Fn.fromBytes(b);
      } catch {
        throw new DecodeError('invalid_scalar', `${path}: scalar out of range`);
      }
      if (!Fn.isValid(n)) throw new DecodeError('invalid_scalar', `${path}: scalar out of range`);
      return b;
    },
    length,
  );
}

/** Decoded points by encoding (points are immutable), and the encoding each came from. */
const decoded = new BoundedMap<string, MemoisedEd25519Point>(MAX_MEMOISED);
const encodingOf = new WeakMap<MemoisedEd25519Point, string>();
const ZIP215 = '/zip215';

/**
 * An edwards25519 point whose decoding and subgroup check are memoised by encoding. An encoding
 * that once decoded to a point of prime order always does, so a hit is sound.
 */
export class MemoisedEd25519Point extends ed25519.Point {
  // noble's MSM checks `p instanceof Point` against the class it was given, while sums and
  // multiples come out as plain edwards points: every edwards point counts as one of these.
  static override [Symbol.hasInstance](x: unknown): boolean {
    return x instanceof ed25519.Point;
  }
  static override fromBytes(bytes: Uint8Array, zip215 = false): MemoisedEd25519Point {
    const key = Buffer.from(bytes).toString('hex') + (zip215 ? ZIP215 : '');
    const hit = decoded.get(key);
    if (hit) return hit;
    const p = ed25519.Point.fromBytes(bytes, zip215);
    const point = new MemoisedEd25519Point(p.X, p.Y, p.Z, p.T);
    decoded.set(key, point);
    encodingOf.set(point, key);
    return point;
  }
  override isTorsionFree(): boolean {
    if (this.is0()) return true;
    const known = encodingOf.get(this);
    // A strict decoding came from the canonical encoding (noble refuses y ≥ p and x = 0 with the
    // sign bit set), so it is checked as it came, without re-encoding the point.
    const encoding = known !== undefined && !known.endsWith(ZIP215) ? Buffer.from(known, 'hex') : this.toBytes();
    const key = known ?? Buffer.from(encoding).toString('hex');
    if (torsionFree.has(key)) return true;
    // libsodium's [L]·P (ed25519-sodium.ts) instead of noble's: the same answer, ~5x faster.
    if (!inPrimeOrderSubgroup(this, encoding)) return false;
    torsionFree.set(key, true);
    return true;
  }
}

/**
 * Records an encoding (hex) as a valid element: canonical, of prime order, not the identity (a
 * signer's own nonce commitments are, by construction).
 */
export function rememberPrimeOrder(key: string): void {
  torsionFree.set(key, true);
  validEd25519Encodings.set(key, true);
}
