/**
 * FROST signing, RFC 9591 sections 4.4–5.3, for the two steps whose generic versions in noble
 * repeat work: `signShare` (section 5.2) and `aggregate` (section 5.3). One core here, thin
 * per-ciphersuite parts below it (Ed25519; secp256k1 with BIP340's x-only Taproot rules). The
 * math is the RFC's and noble's (the RFC 9591 and Zcash vectors run through it, and
 * test/frost/frost-fast.test.ts checks it share for share against noble's own suites); what
 * differs is what each step does not redo:
 *
 * - The group commitment R = Σ D_i + ρ_i·E_i, an MSM, is computed once per (group key, message,
 *   commitment list) and process: the aggregator signs its own share and then aggregates over
 *   the same list, and noble computes R for each. The group arithmetic is each suite's: on
 *   edwards25519, points stay encodings and libsodium adds and multiplies them
 *   (ed25519-sodium.ts); on secp256k1 the same with libsecp256k1 (secp256k1-libsecp.ts).
 * - `aggregate` checks the signature once, with the suite's ordinary verifier (OpenSSL's for
 *   Ed25519); noble verifies with its FROST-internal verifier and callers verify again. Only
 *   when it fails does it hand over to noble's, which names the shares that do not fit.
 * - `signShare` checks that the list holds this signer's commitments against the pair `commit`
 *   returned (remembered by nonce object) or the caller vouched for (`rememberCommitted`: a
 *   presignature read back from the sealed store), instead of recomputing d·G and e·G; nonces
 *   it knows nothing of get noble's signShare and its recomputation.
 */
import type { FROST } from '@noble/curves/abstract/frost.js';
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr, secp256k1, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE, concatBytes, hexToBytes } from '@noble/curves/utils.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { BoundedMap } from '../core/bounded-map.ts';
import { lagrangeCoefficient } from '../core/lagrange.ts';
import { constantTimeEqual } from '../core/transcript.ts';
import { ed25519BaseMul, Ed25519Encoded } from './ed25519-sodium.ts';
import { Secp256k1Encoded } from './secp256k1-libsecp.ts';
import { validEd25519Encoding, validSecp256k1Encoding } from './points.ts';

/** The group operations the core uses, as the suites' encoded points (Ed25519Encoded, Secp256k1Encoded) have them. */
interface GroupPoint<P> {
  add(other: P): P;
  toBytes(): Uint8Array;
}

interface ScalarField {
  readonly ZERO: bigint;
  readonly ONE: bigint;
  fromBytes(b: Uint8Array): bigint;
  toBytes(n: bigint): Uint8Array;
  add(a: bigint, b: bigint): bigint;
  sub(a: bigint, b: bigint): bigint;
  mul(a: bigint, b: bigint): bigint;
  div(a: bigint, b: bigint): bigint;
  neg(a: bigint): bigint;
  is0(a: bigint): boolean;
}

/** What a ciphersuite adds to the core: its group, its hashes H1/H4/H5, its challenge and its encodings. */
export interface FrostSuiteParts<P extends GroupPoint<P>> {
  readonly Point: { readonly ZERO: P };
  readonly Fn: ScalarField;
  /** Σ k_i·P_i over public inputs (variable time). */
  msm(points: P[], scalars: bigint[]): P;
  /** x·G for a secret x, in constant time; the identity for x = 0. */
  baseMultiplySecret(x: bigint): P;
  /** A fully validated group element (memoised in points.ts, so callers' earlier decoding makes this a lookup). */
  parsePoint(b: Uint8Array, path: string): P;
  readonly h1: (m: Uint8Array) => bigint;
  readonly h4: (m: Uint8Array) => Uint8Array;
  readonly h5: (m: Uint8Array) => Uint8Array;
  /**
   * The group key as signing uses it, from `pub.commitments[0]`: its encoding in the binding
   * factors, and whether signing shares are negated for it (BIP340: a key of odd Y signs as its
   * even twin).
   */
  signingKey(groupKey: Uint8Array): { readonly encoded: Uint8Array; readonly negate: boolean };
  /** c = H2(R, PK, msg) as the suite defines it. */
  challenge(R: P, encodedKey: Uint8Array, msg: Uint8Array): bigint;
  /** BIP340: an R of odd Y is used as its even twin, so every signer negates its nonces. */
  negatesNonces(R: P): boolean;
  encodeSignature(R: P, z: bigint): Uint8Array;
}

interface GroupCommitment<P> {
  /** Identifiers of the signers, as scalars, in list order. */
  readonly ids: readonly bigint[];
  /** ρ_i by identifier scalar (not by its hex spelling, which callers may write differently). */
  readonly bindingFactors: ReadonlyMap<bigint, bigint>;
  readonly R: P;
  readonly challenge: bigint;
}

/** A signer's own nonces (d_i, e_i), secret, with its identifier as a scalar. */
interface OwnNonces {
  readonly id: bigint;
  readonly hiding: bigint;
  readonly binding: bigint;
}

/** A signer's entry in the commitment list, as noble's API passes it. */
interface Commitment {
  readonly identifier: string;
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
}

interface NoncePair {
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
}

export interface FastFrost extends FROST {
  /**
   * Vouches that `nonces` are the ones behind `commitments` (a signer's own pair, sealed together
   * and read back), so that signShare need not recompute d·G and e·G for them.
   */
  rememberCommitted(nonces: NoncePair, commitments: NoncePair): void;
}

/**
 * Group commitments per process, by binding-factor prefix PK ‖ H4(msg) ‖ H5(list): the prefix
 * commits to everything R and c are computed from, so a hit is the same computation. Bounded;
 * R is public.
 */
const MAX_REMEMBERED = 512;

/**
 * `core`'s FROST with the faster `commit`, `signShare` and `aggregate` of this module;
 * `verifySignature(signature, message, groupKey)` is the suite's ordinary verifier.
 */
export function fastFrost<P extends GroupPoint<P>>(
  core: FROST,
  parts: FrostSuiteParts<P>,
  verifySignature: (signature: Uint8Array, message: Uint8Array, groupKey: Uint8Array) => boolean,
): FastFrost {
  const { Fn } = parts;
  const remembered = new BoundedMap<string, GroupCommitment<P>>(MAX_REMEMBERED);

  /**
   * RFC 9591 sections 4.4 (binding factors), 4.5 (group commitment) and 4.6 (challenge). A signer
   * passes its own nonces (`own`, whose commitments the list holds: signShare checks that), and
   * its term D_i + ρ_i·E_i is then (d_i + ρ_i·e_i)·G, one base multiplication instead of a
   * multiplication of E_i (about a fifth of the cost with libsodium, which checks E_i's subgroup
   * again on every multiplication).
   */
  function groupCommitment(encodedKey: Uint8Array, list: readonly Commitment[], msg: Uint8Array, own?: OwnNonces): GroupCommitment<P> {
    const parsed = list.map((c, i) => ({
      id: Fn.fromBytes(hexToBytes(c.identifier)),
      hiding: parts.parsePoint(c.hiding, `commitments[${i}].hiding`),
      binding: parts.parsePoint(c.binding, `commitments[${i}].binding`),
      hidingBytes: c.hiding,
      bindingBytes: c.binding,
    }));
    parsed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // Before anything is computed or remembered: the own-term shortcut below relies on it too.
    if (parsed.some((c, i) => i > 0 && c.id === parsed[i - 1]!.id)) throw new Error('duplicate identifiers in the commitment list');
    const encodedList = concatBytes(...parsed.flatMap((c) => [Fn.toBytes(c.id), c.hidingBytes, c.bindingBytes]));
    const prefix = concatBytes(encodedKey, parts.h4(msg), parts.h5(encodedList));
    const key = Buffer.from(prefix).toString('hex');
    const hit = remembered.get(key);
    if (hit) return hit;
    const bindingFactors = new Map<bigint, bigint>();
    for (const c of parsed) bindingFactors.set(c.id, parts.h1(concatBytes(prefix, Fn.toBytes(c.id))));
    // R = Σ D_i + Σ ρ_i·E_i: the hiding terms added, the binding ones in one MSM (public inputs);
    // the signer's own term from its nonces.
    const ownRho = own ? bindingFactors.get(own.id) : undefined;
    const others = ownRho === undefined ? parsed : parsed.filter((c) => c.id !== own!.id);
    let R = parts.Point.ZERO;
    for (const c of others) R = R.add(c.hiding);
    R = R.add(parts.msm(others.map((c) => c.binding), others.map((c) => bindingFactors.get(c.id)!)));
    if (ownRho !== undefined) R = R.add(parts.baseMultiplySecret(Fn.add(own!.hiding, Fn.mul(own!.binding, ownRho))));
    const result: GroupCommitment<P> = { ids: parsed.map((c) => c.id), bindingFactors, R, challenge: parts.challenge(R, encodedKey, msg) };
    remembered.set(key, result);
    return result;
  }

  /** The commitments `commit` gave out (or a caller vouched for), by their nonces object. */
  const committed = new WeakMap<object, NoncePair>();
  return {
    ...core,
    rememberCommitted(nonces, commitments) {
      committed.set(nonces, { hiding: Uint8Array.from(commitments.hiding), binding: Uint8Array.from(commitments.binding) });
    },
    commit(secret, rng) {
      const out = core.commit(secret, rng);
      committed.set(out.nonces, out.commitments);
      return out;
    },
    signShare(secret, pub, nonces, commitmentList, msg) {
      const own = commitmentList.find((c) => c.identifier === secret.identifier);
      const known = committed.get(nonces);
      // Nonces from elsewhere get noble's own checks, d·G and e·G recomputed included.
      if (!known || !own || !constantTimeEqual(own.hiding, known.hiding) || !constantTimeEqual(own.binding, known.binding)) {
        return core.signShare(secret, pub, nonces, commitmentList, msg);
      }
      if (commitmentList.length < pub.signers.min || commitmentList.length > pub.signers.max) throw new Error('wrong number of commitments');
      let d = Fn.fromBytes(nonces.hiding);
      let e = Fn.fromBytes(nonces.binding);
      if (Fn.is0(d) || Fn.is0(e)) throw new Error('signing nonces already used');
      const signingKey = parts.signingKey(pub.commitments[0]!);
      const self = Fn.fromBytes(hexToBytes(secret.identifier));
      const gc = groupCommitment(signingKey.encoded, commitmentList, msg, { id: self, hiding: d, binding: e });
      const rho = gc.bindingFactors.get(self);
      if (rho === undefined) throw new Error('missing signer commitment');
      const lambda = lagrangeCoefficient(Fn, gc.ids, self); // λ_i at 0 over the signer set (RFC 9591 section 4.2)
      let s = Fn.fromBytes(secret.signingShare);
      if (signingKey.negate) s = Fn.neg(s);
      if (parts.negatesNonces(gc.R)) {
        d = Fn.neg(d);
        e = Fn.neg(e);
      }
      // z_i = d_i + e_i·ρ_i + λ_i·s_i·c
      const z = Fn.add(Fn.add(d, Fn.mul(e, rho)), Fn.mul(Fn.mul(lambda, s), gc.challenge));
      // Single use, as noble: a second call with these nonces fails closed.
      nonces.hiding.fill(0);
      nonces.binding.fill(0);
      committed.delete(nonces);
      return Fn.toBytes(z) as ReturnType<FROST['signShare']>;
    },
    aggregate(pub, commitmentList, msg, sigShares) {
      const ids = commitmentList.map((c) => c.identifier);
      const complete =
        commitmentList.length >= pub.signers.min &&
        commitmentList.length <= pub.signers.max &&
        new Set(ids).size === ids.length &&
        ids.length === Object.keys(sigShares).length &&
        ids.every((id) => id in sigShares && id in pub.verifyingShares);
      if (complete) {
        const { R } = groupCommitment(parts.signingKey(pub.commitments[0]!).encoded, commitmentList, msg);
        let z = Fn.ZERO;
        for (const id of ids) z = Fn.add(z, Fn.fromBytes(sigShares[id]!));
        const signature = parts.encodeSignature(R, z);
        if (verifySignature(signature, msg, pub.commitments[0]!)) return signature as ReturnType<FROST['aggregate']>;
      }
      // Not a valid signature: noble's aggregate says why and names the shares that fail.
      return core.aggregate(pub, commitmentList, msg, sigShares);
    },
  };
}

/** FROST-ED25519-SHA512-v1 (RFC 9591 section 6.1). */
const ED25519_CONTEXT = 'FROST-ED25519-SHA512-v1';
const edPrefix = (tag: string): Uint8Array => utf8ToBytes(ED25519_CONTEXT + tag);
const ED_H1 = edPrefix('rho');
const ED_H4 = edPrefix('msg');
const ED_H5 = edPrefix('com');
const edScalar = (digest: Uint8Array): bigint => ed25519.Point.Fn.create(bytesToNumberLE(digest));

/**
 * Σ s_i·P_i for public scalars and validated points, by libsodium per term; noble's MSM (over the
 * decoded points) for a list with a term libsodium refuses (s = 0, or a product that is the identity).
 */
function ed25519Msm(points: Ed25519Encoded[], scalars: bigint[]): Ed25519Encoded {
  let sum = Ed25519Encoded.ZERO;
  for (let i = 0; i < points.length; i++) {
    const term = points[i]!.multiplyPublic(scalars[i]!);
    if (!term) {
      const decoded = points.map((p) => ed25519.Point.fromBytes(p.toBytes()));
      return Ed25519Encoded.of(mulAddUnsafe(ed25519.Point, decoded, scalars).toBytes());
    }
    sum = sum.add(term);
  }
  return sum;
}

export const ED25519_PARTS: FrostSuiteParts<Ed25519Encoded> = {
  Point: Ed25519Encoded,
  Fn: ed25519.Point.Fn,
  msm: ed25519Msm,
  baseMultiplySecret: (x) => (x === 0n ? Ed25519Encoded.ZERO : Ed25519Encoded.of(ed25519BaseMul(x))),
  // Checked on its encoding by libsodium and memoised (points.ts); never decoded into a noble point here.
  parsePoint: (b, path) => Ed25519Encoded.of(validEd25519Encoding(b, path)),
  h1: (m) => edScalar(sha512(concatBytes(ED_H1, m))),
  h4: (m) => sha512(concatBytes(ED_H4, m)),
  h5: (m) => sha512(concatBytes(ED_H5, m)),
  signingKey: (groupKey) => ({ encoded: groupKey, negate: false }),
  // H2 is undecorated for this suite, as RFC 8032's challenge.
  challenge: (R, key, msg) => edScalar(sha512(concatBytes(R.toBytes(), key, msg))),
  negatesNonces: () => false,
  encodeSignature: (R, z) => concatBytes(R.toBytes(), ed25519.Point.Fn.toBytes(z)),
};

/** FROST-secp256k1-SHA256-TR-v1 (Zcash's frost-secp256k1-tr): BIP340 keys, nonces and challenge. */
const TR_CONTEXT = 'FROST-secp256k1-SHA256-TR-v1';
const trPrefix = (tag: string): Uint8Array => utf8ToBytes(TR_CONTEXT + tag);
const TR_H1 = trPrefix('rho');
const TR_H4 = trPrefix('msg');
const TR_H5 = trPrefix('com');

export const BIP340_PARTS: FrostSuiteParts<Secp256k1Encoded> = {
  Point: Secp256k1Encoded,
  Fn: secp256k1.Point.Fn,
  // libsecp256k1's multiplication per term; a zero scalar's term is the point at infinity, which adds nothing.
  msm: (points, scalars) => points.reduce((sum, p, i) => (scalars[i] === 0n ? sum : sum.add(p.multiplyPublic(secp256k1.Point.Fn.toBytes(scalars[i]!)))), Secp256k1Encoded.ZERO),
  baseMultiplySecret: (x) => Secp256k1Encoded.baseMultiplySecret(x),
  // Checked on its encoding by libsecp256k1 and memoised (points.ts); never decoded into a noble point here.
  parsePoint: (b, path) => Secp256k1Encoded.of(validSecp256k1Encoding(b, path)),
  h1: (m) => secp256k1_hasher.hashToScalar(m, { DST: TR_H1 }),
  h4: (m) => sha256(concatBytes(TR_H4, m)),
  h5: (m) => sha256(concatBytes(TR_H5, m)),
  // A key of odd Y signs as its even twin: the binding factors see 0x02 ‖ x, and shares are negated.
  signingKey: (groupKey) => {
    const odd = validSecp256k1Encoding(groupKey, 'group key')[0] === 3;
    return { encoded: concatBytes(Uint8Array.of(0x02), groupKey.subarray(1)), negate: odd };
  },
  challenge: (R, key, msg) => secp256k1.Point.Fn.create(bytesToNumberBE(schnorr.utils.taggedHash('BIP0340/challenge', R.toBytes().subarray(1), key.subarray(1), msg))),
  negatesNonces: (R) => R.hasOddY(),
  encodeSignature: (R, z) => concatBytes(R.toBytes().subarray(1), secp256k1.Point.Fn.toBytes(z)),
};
