/**
 * The RFC 9591 ciphersuites we offer (group + hash), as thin wrappers over @noble/curves'
 * `createFROST` suites: the group math stays in noble; here are the codecs for points and
 * scalars (from points.ts) and the user-facing key and signature formats. The threshold layer
 * (DKG and share lifecycle) and FROST signing both build on them.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { schnorr, schnorr_FROST, secp256k1, secp256k1_FROST, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, concatBytes } from '@noble/curves/utils.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { createFROST, type FROST } from '@noble/curves/abstract/frost.js';
import { createHash, randomBytes, verify } from 'node:crypto';
import { ed25519PublicKey } from './curve25519-keys.ts';
import { ed25519BaseMul } from './ed25519-sodium.ts';
import { BIP340_PARTS, ED25519_PARTS, fastFrost } from './frost-fast.ts';
import { BoundedMap } from '../core/bounded-map.ts';
import { type Bytes, type Codec } from '../core/codec.ts';
import type { PartyId, Rng } from '../core/ids.ts';
import { ED25519, SECP256K1, type Group } from './group.ts';
import { secp256k1BaseMulSecret, verifyBip340Libsecp } from './secp256k1-libsecp.ts';
import { MemoisedEd25519Point, pointCodec, rememberPrimeOrder, scalarCodec, validEd25519Encoding, validSecp256k1Encoding, validSecp256k1Point } from './points.ts';

export { validEd25519Point, validSecp256k1Point } from './points.ts';

/** Adapts our injected Rng to noble's `randomBytes` signature. */
export function nobleRng(rng: Rng): (n?: number) => Bytes {
  return (n = 32) => Uint8Array.from(rng(n));
}

/** Scheme names as users ask for them. `frost-secp256k1` is the plain RFC suite (for vectors). */
export type FrostScheme = 'eddsa-ed25519' | 'schnorr-bip340' | 'frost-secp256k1';

export const FROST_SCHEMES: readonly FrostScheme[] = ['eddsa-ed25519', 'schnorr-bip340', 'frost-secp256k1'];


export interface FrostSuite {
  readonly scheme: FrostScheme;
  /** The RFC / Zcash ciphersuite id. */
  readonly ciphersuite: string;
  readonly frost: FROST;
  /** The prime-order group of the suite, for the generic threshold code. */
  readonly group: Group;
  /** H_dkg of RFC 9591 / Zcash: the DKG proof-of-knowledge challenge hash, as a scalar. */
  hdkg(msg: Uint8Array): bigint;
  /** BIP340: keys and nonce commitments are x-only (even Y), and DKG keys get BIP341's key-path tweak. */
  readonly xOnly: boolean;
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
  /**
   * Vouches that `nonces` are a signer's own, behind `commitments` (a presignature read back
   * from its sealed store), so that signShare may skip recomputing them where the suite can.
   */
  rememberCommitted(nonces: { hiding: Uint8Array; binding: Uint8Array }, commitments: { hiding: Uint8Array; binding: Uint8Array }): void;
}

const recomputesCommitments = (): void => undefined;

/**
 * FROST-ED25519-SHA512-v1 exactly as noble's `ed25519_FROST` (same name, hash, undecorated H2
 * and point checks; the RFC vectors test it), except that its points are `MemoisedEd25519Point`s
 * (points.ts): noble re-checks every commitment's subgroup membership each time signShare,
 * aggregate or verifyShare parses it, and those repeated checks were most of the signing time.
 */
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
/**
 * RFC 9591's round one (section 5.1) as noble's `commit` does it: each nonce is nonce_generate's
 * H3(random(32) ‖ SerializeScalar(secret)), hiding first; the commitments d·G and e·G come from
 * `baseMul`, a constant-time multiplication faster than noble's blinded one. The RFC vectors pin
 * nonces and commitments (test/frost/vectors.test.ts).
 */
function commitWith(
  Fn: { fromBytes(b: Uint8Array): bigint; toBytes(n: bigint): Uint8Array; readonly BYTES: number },
  h3: (m: Uint8Array) => bigint,
  baseMul: (x: bigint) => Uint8Array,
): FROST['commit'] {
  return (secret, rng) => {
    if (secret.signingShare.length !== Fn.BYTES) throw new RangeError(`signing share of ${secret.signingShare.length} bytes, expected ${Fn.BYTES}`);
    const random = (n: number) => (rng ? rng(n) : new Uint8Array(randomBytes(n)));
    const encodedSecret = Fn.toBytes(Fn.fromBytes(secret.signingShare));
    try {
      const hiding = h3(concatBytes(random(32), encodedSecret));
      const binding = h3(concatBytes(random(32), encodedSecret));
      return {
        nonces: { hiding: Fn.toBytes(hiding), binding: Fn.toBytes(binding) },
        commitments: { identifier: secret.identifier, hiding: baseMul(hiding), binding: baseMul(binding) },
      } as ReturnType<FROST['commit']>;
    } finally {
      encodedSecret.fill(0);
    }
  };
}

/** H3 of FROST-ED25519-SHA512-v1: SHA-512 of "FROST-ED25519-SHA512-v1nonce" ‖ m, little-endian, mod L. */
const ED25519_NONCE_DST = utf8ToBytes('FROST-ED25519-SHA512-v1nonce');
const ed25519Commit = commitWith(ed25519.Point.Fn, (m) => ed25519.Point.Fn.create(bytesToNumberLE(sha512(concatBytes(ED25519_NONCE_DST, m)))), ed25519BaseMul);

/**
 * Round one with libsodium's base multiplication (ed25519-sodium.ts); a signer's own nonce
 * commitments are multiples of the base point, of prime order by construction.
 */
const ed25519FrostRemembering: FROST = {
  ...ed25519FrostCore,
  commit(secret, rng) {
    const out = ed25519Commit(secret, rng);
    rememberPrimeOrder(Buffer.from(out.commitments.hiding).toString('hex'));
    rememberPrimeOrder(Buffer.from(out.commitments.binding).toString('hex'));
    return out;
  },
};

/**
 * A verifier that remembers the signatures it accepted (by a digest of signature, key and
 * message, whose lengths are fixed first so the three cannot shift into each other): the
 * aggregator's `aggregate` checks the signature and its caller checks it again.
 */
const MAX_VERIFIED = 256;
function rememberingAccepted(
  keyBytes: number,
  verifySignature: (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) => boolean,
): (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) => boolean {
  const accepted = new BoundedMap<string, true>(MAX_VERIFIED);
  return (sig, msg, pk) => {
    if (sig.length !== 64 || pk.length !== keyBytes) return false;
    const digest = createHash('sha256').update(sig).update(pk).update(msg).digest('hex');
    if (accepted.has(digest)) return true;
    if (!verifySignature(sig, msg, pk)) return false;
    accepted.set(digest, true);
    return true;
  };
}

/** OpenSSL's RFC 8032 verifier: ~15x faster than noble's here, and independent of the signing code. */
const verifyEd25519 = rememberingAccepted(32, (sig, msg, pk) => {
  try {
    return verify(null, msg, ed25519PublicKey(pk), sig);
  } catch {
    return false;
  }
});

const ed25519_FROST = fastFrost(ed25519FrostRemembering, ED25519_PARTS, verifyEd25519);

const ed25519Suite: FrostSuite = {
  scheme: 'eddsa-ed25519',
  ciphersuite: 'FROST-ED25519-SHA512-v1',
  frost: ed25519_FROST,
  group: ED25519,
  hdkg: (msg) => bytesToNumberLE(sha512(concatBytes(utf8ToBytes('FROST-ED25519-SHA512-v1dkg'), msg))) % ED25519.order,
  xOnly: false,
  scalarBytes: 32,
  pointBytes: 32,
  signatureBytes: 64,
  point: pointCodec(32, validEd25519Encoding),
  scalar: scalarCodec(ed25519_FROST.utils.Fn, 32),
  identifier: (id) => ed25519_FROST.Identifier.fromNumber(id),
  userPublicKey: (k) => k,
  verify: verifyEd25519,
  rememberCommitted: (nonces, commitments) => ed25519_FROST.rememberCommitted(nonces, commitments),
};

const secp256k1Suite: FrostSuite = {
  scheme: 'frost-secp256k1',
  ciphersuite: 'FROST-secp256k1-SHA256-v1',
  frost: secp256k1_FROST,
  group: SECP256K1,
  hdkg: (msg) => secp256k1_hasher.hashToScalar(msg, { DST: utf8ToBytes('FROST-secp256k1-SHA256-v1dkg') }),
  xOnly: false,
  scalarBytes: 32,
  pointBytes: 33,
  signatureBytes: 65,
  // DKLs23's wire codec too, whose arithmetic needs noble's points: decoded once here, memoised.
  point: pointCodec(33, validSecp256k1Point),
  scalar: scalarCodec(secp256k1_FROST.utils.Fn, 32),
  identifier: (id) => secp256k1_FROST.Identifier.fromNumber(id),
  userPublicKey: (k) => k,
  verify: (sig, msg, pk) => secp256k1_FROST.verify(sig, msg, pk),
  rememberCommitted: recomputesCommitments,
};

/**
 * BIP340 verification by libsecp256k1 (secp256k1-libsecp.ts, ~0.3 ms) for a 32-byte message,
 * the only length the schnorr-bip340 scheme signs; noble's `schnorr.verify` for any other a
 * protocol-level caller passes. The coordinator checks every signature it returns again
 * (protocol/schemes/schnorr-bip340.ts).
 */
function verifyBip340(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean {
  const fast = verifyBip340Libsecp(sig, msg, pk);
  if (fast !== undefined) return fast;
  try {
    return schnorr.verify(sig, msg, pk);
  } catch {
    return false;
  }
}
const verifyBip340Remembering = rememberingAccepted(32, verifyBip340);

/** Round one for FROST-secp256k1-SHA256-TR-v1 with libsecp256k1's constant-time base multiplication (secp256k1-libsecp.ts). */
const TR_NONCE_DST = utf8ToBytes('FROST-secp256k1-SHA256-TR-v1nonce');
const schnorrFrostLibsecpCommit: FROST = {
  ...schnorr_FROST,
  commit: commitWith(secp256k1.Point.Fn, (m) => secp256k1_hasher.hashToScalar(m, { DST: TR_NONCE_DST }), secp256k1BaseMulSecret),
};

const bip340Frost = fastFrost(schnorrFrostLibsecpCommit, BIP340_PARTS, (sig, msg, groupKey) => verifyBip340Remembering(sig, msg, groupKey.subarray(1)));

const bip340Suite: FrostSuite = {
  scheme: 'schnorr-bip340',
  ciphersuite: 'FROST-secp256k1-SHA256-TR-v1',
  frost: bip340Frost,
  group: SECP256K1,
  hdkg: (msg) => secp256k1_hasher.hashToScalar(msg, { DST: utf8ToBytes('FROST-secp256k1-SHA256-TR-v1dkg') }),
  xOnly: true,
  scalarBytes: 32,
  pointBytes: 33,
  signatureBytes: 64,
  point: pointCodec(33, validSecp256k1Encoding),
  scalar: scalarCodec(schnorr_FROST.utils.Fn, 32),
  identifier: (id) => schnorr_FROST.Identifier.fromNumber(id),
  // BIP340 keys are x-only: drop the SEC1 parity byte.
  userPublicKey: (k) => (k.length === 33 ? k.slice(1) : k),
  verify: verifyBip340Remembering,
  rememberCommitted: (nonces, commitments) => bip340Frost.rememberCommitted(nonces, commitments),
};

const SUITES: Record<FrostScheme, FrostSuite> = {
  'eddsa-ed25519': ed25519Suite,
  'frost-secp256k1': secp256k1Suite,
  'schnorr-bip340': bip340Suite,
};

export function frostSuite(scheme: FrostScheme): FrostSuite {
  return SUITES[scheme];
}
