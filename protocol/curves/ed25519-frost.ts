/**
 * FROST(Ed25519, SHA-512) signing, RFC 9591 sections 4.4–5.3, for the two steps whose generic
 * versions in noble repeat work: `signShare` (section 5.2) and `aggregate` (section 5.3). The math
 * is the RFC's and the same as noble's (the RFC vectors test both, test/frost/vectors.test.ts);
 * what differs is what each step does not redo:
 *
 * - The group commitment R = Σ D_i + ρ_i·E_i, an MSM, is computed once per (group key, message,
 *   commitment list) and process: the aggregator signs its own share and then aggregates over
 *   the same list, and noble computed R for each.
 * - `aggregate` checks the signature with OpenSSL's RFC 8032 verifier (~0.07 ms) instead of
 *   noble's (~1 ms); only when that fails does it hand over to noble's, which names the cheats.
 * - `signShare` checks that the list holds this signer's commitments against the pair `commit`
 *   returned (remembered by nonce object) or the caller vouched for (`rememberCommitted`: a
 *   presignature read back from the sealed store), instead of recomputing d·G and e·G; nonces
 *   it knows nothing of get noble's recomputation.
 */
import type { FROST } from '@noble/curves/abstract/frost.js';
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, concatBytes, hexToBytes } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { validEd25519Point } from './points.ts';

const Fn = ed25519.Point.Fn;
const CONTEXT = 'FROST-ED25519-SHA512-v1';
const H1_PREFIX = utf8ToBytes(`${CONTEXT}rho`);
const H4_PREFIX = utf8ToBytes(`${CONTEXT}msg`);
const H5_PREFIX = utf8ToBytes(`${CONTEXT}com`);

const toScalar = (digest: Uint8Array): bigint => Fn.create(bytesToNumberLE(digest));
/** H1: binding factors. */
const h1 = (m: Uint8Array): bigint => toScalar(sha512(concatBytes(H1_PREFIX, m)));
/** H2: the challenge, undecorated for this suite (RFC 9591 section 6.1, as RFC 8032). */
const h2 = (m: Uint8Array): bigint => toScalar(sha512(m));

/** A signer's entry in the commitment list, as noble's API passes it. */
interface Commitment {
  readonly identifier: string;
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
}

interface GroupCommitment {
  /** Identifiers of the signers, as scalars, in list order. */
  readonly ids: readonly bigint[];
  readonly bindingFactors: ReadonlyMap<string, bigint>;
  /** SerializeElement(R). */
  readonly R: Uint8Array;
  /** c = H2(R ‖ PK ‖ msg). */
  readonly challenge: bigint;
}

/**
 * Group commitments by binding-factor prefix PK ‖ H4(msg) ‖ H5(list): the prefix commits to
 * everything R and c are computed from, so a hit is the same computation. Bounded; R is public.
 */
const MAX_REMEMBERED = 512;
const remembered = new Map<string, GroupCommitment>();

/** RFC 9591 sections 4.4 (binding factors), 4.5 (group commitment) and 4.6 (challenge). */
function groupCommitment(groupKey: Uint8Array, list: readonly Commitment[], msg: Uint8Array): GroupCommitment {
  const parsed = list.map((c, i) => ({
    identifier: c.identifier,
    id: Fn.fromBytes(hexToBytes(c.identifier)),
    // Memoised full validation (points.ts): callers decode these already, so this is a lookup.
    hiding: validEd25519Point(c.hiding, `commitments[${i}].hiding`),
    binding: validEd25519Point(c.binding, `commitments[${i}].binding`),
    hidingBytes: c.hiding,
    bindingBytes: c.binding,
  }));
  parsed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const encodedList = concatBytes(...parsed.flatMap((c) => [Fn.toBytes(c.id), c.hidingBytes, c.bindingBytes]));
  const prefix = concatBytes(groupKey, sha512(concatBytes(H4_PREFIX, msg)), sha512(concatBytes(H5_PREFIX, encodedList)));
  const key = Buffer.from(prefix).toString('hex');
  const hit = remembered.get(key);
  if (hit) return hit;
  const bindingFactors = new Map<string, bigint>();
  for (const c of parsed) bindingFactors.set(c.identifier, h1(concatBytes(prefix, Fn.toBytes(c.id))));
  // R = Σ D_i + Σ ρ_i·E_i: the hiding terms added, the binding ones in one interleaved MSM (public inputs).
  let hidingSum = ed25519.Point.ZERO;
  for (const c of parsed) hidingSum = hidingSum.add(c.hiding);
  const R = hidingSum.add(mulAddUnsafe(ed25519.Point, parsed.map((c) => c.binding), parsed.map((c) => bindingFactors.get(c.identifier)!)));
  const encodedR = R.toBytes();
  const result: GroupCommitment = { ids: parsed.map((c) => c.id), bindingFactors, R: encodedR, challenge: h2(concatBytes(encodedR, groupKey, msg)) };
  if (remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(key, result);
  return result;
}

/** λ_i over the signer set (RFC 9591 section 4.2). */
function lagrangeAtZero(ids: readonly bigint[], self: bigint): bigint {
  let num = Fn.ONE;
  let den = Fn.ONE;
  for (const x of ids) {
    if (x === self) continue;
    num = Fn.mul(num, x);
    den = Fn.mul(den, Fn.sub(x, self));
  }
  return Fn.div(num, den);
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

interface NoncePair {
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
}

export interface FastEd25519Frost extends FROST {
  /**
   * Vouches that `nonces` are the ones behind `commitments` (a signer's own pair, sealed together
   * and read back), so that signShare need not recompute d·G and e·G for them.
   */
  rememberCommitted(nonces: NoncePair, commitments: NoncePair): void;
}

/**
 * `core`'s FROST with the faster `commit`, `signShare` and `aggregate` above; `verifySignature`
 * is the RFC 8032 verifier (OpenSSL's), `(signature, message, groupKey)`.
 */
export function fastEd25519Frost(core: FROST, verifySignature: (signature: Uint8Array, message: Uint8Array, groupKey: Uint8Array) => boolean): FastEd25519Frost {
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
      if (!known || !own || !sameBytes(own.hiding, known.hiding) || !sameBytes(own.binding, known.binding)) {
        return core.signShare(secret, pub, nonces, commitmentList, msg);
      }
      if (commitmentList.length < pub.signers.min || commitmentList.length > pub.signers.max) throw new Error('wrong number of commitments');
      const d = Fn.fromBytes(nonces.hiding);
      const e = Fn.fromBytes(nonces.binding);
      if (Fn.is0(d) || Fn.is0(e)) throw new Error('signing nonces already used');
      const groupKey = pub.commitments[0]!;
      const gc = groupCommitment(groupKey, commitmentList, msg);
      const self = Fn.fromBytes(hexToBytes(secret.identifier));
      if (new Set(gc.ids).size !== gc.ids.length) throw new Error('duplicate identifiers in the commitment list');
      const lambda = lagrangeAtZero(gc.ids, self);
      const s = Fn.fromBytes(secret.signingShare);
      // z_i = d_i + e_i·ρ_i + λ_i·s_i·c
      const z = Fn.add(Fn.add(d, Fn.mul(e, gc.bindingFactors.get(secret.identifier)!)), Fn.mul(Fn.mul(lambda, s), gc.challenge));
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
        const groupKey = pub.commitments[0]!;
        const { R } = groupCommitment(groupKey, commitmentList, msg);
        let z = Fn.ZERO;
        for (const id of ids) z = Fn.add(z, Fn.fromBytes(sigShares[id]!));
        const signature = concatBytes(R, Fn.toBytes(z));
        if (verifySignature(signature, msg, groupKey)) return signature;
      }
      // Not a valid signature: noble's aggregate says why and names the shares that fail.
      return core.aggregate(pub, commitmentList, msg, sigShares);
    },
  };
}
