/**
 * The FROST ciphersuites we offer, as thin wrappers over @noble/curves' RFC 9591
 * implementation (`createFROST` suites): the group math stays in noble; here are only
 * the codecs for points and scalars and the user-facing key and signature formats.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { schnorr, schnorr_FROST, secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { createFROST, type FROST } from '@noble/curves/abstract/frost.js';
import { verify } from 'node:crypto';
import { ed25519PublicKey } from '../core/curve25519-keys.ts';
import { custom, type Bytes, type Codec } from '../core/codec.ts';
import { DecodeError } from '../core/errors.ts';
import type { PartyId, Rng } from '../core/ids.ts';

/** Adapts our injected Rng to noble's `randomBytes` signature. */
export function nobleRng(rng: Rng): (n?: number) => Bytes {
  return (n = 32) => Uint8Array.from(rng(n));
}

/** Scheme names as users ask for them. `frost-secp256k1` is the plain RFC suite (for vectors). */
export type FrostScheme = 'eddsa-ed25519' | 'schnorr-bip340' | 'frost-secp256k1';

export const FROST_SCHEMES: readonly FrostScheme[] = ['eddsa-ed25519', 'schnorr-bip340', 'frost-secp256k1'];

interface GroupPoint {
  is0(): boolean;
  assertValidity(): void;
  toBytes(): Uint8Array;
}

export interface FrostSuite {
  readonly scheme: FrostScheme;
  /** The RFC / Zcash ciphersuite id. */
  readonly ciphersuite: string;
  readonly frost: FROST;
  readonly scalarBytes: number;
  readonly pointBytes: number;
  readonly signatureBytes: number;
  /** A strictly validated group element: canonical, on the curve, in the subgroup, not the identity. */
  readonly point: Codec<Bytes>;
  /** A canonical scalar in [0, order). */
  readonly scalar: Codec<Bytes>;
  /** noble identifier (hex scalar) of a party. */
  identifier(id: PartyId): string;
  /** The public key in the format users expect (Ed25519 32 bytes, BIP340 32-byte x-only, SEC1 33 bytes). */
  userPublicKey(groupKey: Uint8Array): Uint8Array;
  /** Verification with the ordinary single-signer verifier (not the FROST code path). */
  verify(signature: Uint8Array, message: Uint8Array, userPublicKey: Uint8Array): boolean;
}

/**
 * Parsed points by encoding, per group, once fully validated: the checks are deterministic,
 * and the subgroup check costs ~1 ms on edwards25519, so the wire codec and the DKG math
 * (`dkg-math.ts`) share one validation per point and process.
 */
const MAX_VALIDATED = 200_000;

interface PointValidator<P extends GroupPoint> {
  (b: Uint8Array, path: string): P;
}

function pointValidator<P extends GroupPoint>(length: number, parse: (b: Uint8Array) => P, extra?: (p: P) => boolean): PointValidator<P> {
  const validated = new Map<string, P>();
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
    if (validated.size >= MAX_VALIDATED) validated.clear();
    validated.set(key, p);
    return p;
  };
}

type EdPoint = ReturnType<typeof ed25519.Point.fromBytes>;
type SecpPoint = ReturnType<typeof secp256k1.Point.fromBytes>;

/** A strictly validated edwards25519 point (canonical, on the curve, prime-order subgroup, not the identity). */
export const validEd25519Point: PointValidator<EdPoint> = pointValidator(32, (b) => MemoisedEd25519Point.fromBytes(b, false), (p) => p.isTorsionFree());
/** A strictly validated secp256k1 point (33-byte compressed SEC1, on the curve, not the identity). */
export const validSecp256k1Point: PointValidator<SecpPoint> = pointValidator(33, (b) => secp256k1.Point.fromBytes(b));

function pointCodec(length: number, validate: PointValidator<GroupPoint>): Codec<Bytes> {
  return custom<Bytes>(
    (b) => b,
    (b, path) => {
      validate(b, path);
      return b;
    },
    length,
  );
}

function scalarCodec(frost: FROST, length: number): Codec<Bytes> {
  const Fn = frost.utils.Fn;
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

/**
 * FROST-ED25519-SHA512-v1 exactly as noble's `ed25519_FROST` (same name, hash, undecorated H2
 * and point checks; the RFC vectors test it), except that the subgroup check ([L]P = 0, a full
 * scalar multiplication, ~1.4 ms) is memoised by encoding: noble re-checks every commitment each
 * time signShare, aggregate or verifyShare parses it, twice per parse (its own check and the
 * ciphersuite's), and those repeated checks of the same points were most of the signing time.
 * An encoding that once decoded to a point of prime order always does, so a hit is sound.
 */
// Bounded (cleared when full): fresh nonce commitments arrive with every signature and are
// re-parsed only within it, while key points come back at once after a clear.
const MAX_MEMOISED = 16_384;
const torsionFree = new Set<string>();
/** Decoded points by encoding (points are immutable), and the encoding each came from. */
const decoded = new Map<string, MemoisedEd25519Point>();
const encodingOf = new WeakMap<MemoisedEd25519Point, string>();
class MemoisedEd25519Point extends ed25519.Point {
  // noble's MSM checks `p instanceof Point` against the class it was given, while sums and
  // multiples come out as plain edwards points: every edwards point counts as one of these.
  static override [Symbol.hasInstance](x: unknown): boolean {
    return x instanceof ed25519.Point;
  }
  static override fromBytes(bytes: Uint8Array, zip215 = false): MemoisedEd25519Point {
    const key = Buffer.from(bytes).toString('hex') + (zip215 ? '/zip215' : '');
    const hit = decoded.get(key);
    if (hit) return hit;
    const p = ed25519.Point.fromBytes(bytes, zip215);
    const point = new MemoisedEd25519Point(p.X, p.Y, p.Z, p.T);
    if (decoded.size >= MAX_MEMOISED) decoded.clear();
    decoded.set(key, point);
    encodingOf.set(point, key);
    return point;
  }
  override isTorsionFree(): boolean {
    const key = encodingOf.get(this) ?? Buffer.from(this.toBytes()).toString('hex');
    if (torsionFree.has(key)) return true;
    if (!super.isTorsionFree()) return false;
    rememberPrimeOrder(key);
    return true;
  }
}

function rememberPrimeOrder(key: string): void {
  if (torsionFree.size >= MAX_MEMOISED) torsionFree.clear();
  torsionFree.add(key);
}

const ed25519FrostCore = createFROST({
  name: 'FROST-ED25519-SHA512-v1',
  Point: MemoisedEd25519Point,
  validatePoint: (point) => {
    const p = point as MemoisedEd25519Point;
    p.assertValidity();
    if (!p.isTorsionFree()) throw new Error('bad point: not torsion-free');
  },
  hash: sha512,
  H2: '',
});
/** A signer's own nonce commitments are multiples of the base point, of prime order by construction. */
const ed25519_FROST: FROST = {
  ...ed25519FrostCore,
  commit(secret, rng) {
    const out = ed25519FrostCore.commit(secret, rng);
    rememberPrimeOrder(Buffer.from(out.commitments.hiding).toString('hex'));
    rememberPrimeOrder(Buffer.from(out.commitments.binding).toString('hex'));
    return out;
  },
};

const ed25519Suite: FrostSuite = {
  scheme: 'eddsa-ed25519',
  ciphersuite: 'FROST-ED25519-SHA512-v1',
  frost: ed25519_FROST,
  scalarBytes: 32,
  pointBytes: 32,
  signatureBytes: 64,
  point: pointCodec(32, validEd25519Point),
  scalar: scalarCodec(ed25519_FROST, 32),
  identifier: (id) => ed25519_FROST.Identifier.fromNumber(id),
  userPublicKey: (k) => k,
  // OpenSSL's RFC 8032 verifier: ~20x faster than noble's here, and independent of the signing code.
  verify: (sig, msg, pk) => {
    try {
      return sig.length === 64 && pk.length === 32 && verify(null, msg, ed25519PublicKey(pk), sig);
    } catch {
      return false;
    }
  },
};

const secp256k1Suite: FrostSuite = {
  scheme: 'frost-secp256k1',
  ciphersuite: 'FROST-secp256k1-SHA256-v1',
  frost: secp256k1_FROST,
  scalarBytes: 32,
  pointBytes: 33,
  signatureBytes: 65,
  point: pointCodec(33, validSecp256k1Point),
  scalar: scalarCodec(secp256k1_FROST, 32),
  identifier: (id) => secp256k1_FROST.Identifier.fromNumber(id),
  userPublicKey: (k) => k,
  verify: (sig, msg, pk) => secp256k1_FROST.verify(sig, msg, pk),
};

const bip340Suite: FrostSuite = {
  scheme: 'schnorr-bip340',
  ciphersuite: 'FROST-secp256k1-SHA256-TR-v1',
  frost: schnorr_FROST,
  scalarBytes: 32,
  pointBytes: 33,
  signatureBytes: 64,
  point: pointCodec(33, validSecp256k1Point),
  scalar: scalarCodec(schnorr_FROST, 32),
  identifier: (id) => schnorr_FROST.Identifier.fromNumber(id),
  // BIP340 keys are x-only: drop the SEC1 parity byte.
  userPublicKey: (k) => (k.length === 33 ? k.slice(1) : k),
  verify: (sig, msg, pk) => schnorr.verify(sig, msg, pk),
};

const SUITES: Record<FrostScheme, FrostSuite> = {
  'eddsa-ed25519': ed25519Suite,
  'frost-secp256k1': secp256k1Suite,
  'schnorr-bip340': bip340Suite,
};

export function frostSuite(scheme: FrostScheme): FrostSuite {
  return SUITES[scheme];
}
