/**
 * Verifiers the tests trust because we did not write them: OpenSSL through node:crypto for
 * Ed25519 and ECDSA, noble for BIP340. Plus the small combinatorics the threshold tests share.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { ed25519PublicKey } from '../../protocol/curves/curve25519-keys.ts';
import { frostSuite, type FrostScheme } from '../../protocol/curves/ciphersuites.ts';

export { ed25519PublicKey };

const SECP256K1_SPKI_PREFIX = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex');

/** A 33-byte compressed secp256k1 point as an OpenSSL key. */
export const secp256k1PublicKey = (compressed: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([SECP256K1_SPKI_PREFIX, compressed]), format: 'der', type: 'spki' });

export const opensslEd25519Verifies = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean =>
  verify(null, message, ed25519PublicKey(publicKey), signature);

/** ECDSA through OpenSSL, which hashes `preimage` with SHA-256 itself; `signature` is compact r||s. */
export function opensslEcdsaVerifies(signature: Uint8Array, preimage: Uint8Array | string, publicKey: Uint8Array): boolean {
  const der = secp256k1.Signature.fromBytes(signature, 'compact').toBytes('der');
  return verify('sha256', Buffer.from(preimage), { key: secp256k1PublicKey(publicKey), dsaEncoding: 'der' }, der);
}

/** A FROST signature checked by a verifier outside our code where one exists (secp256k1 FROST has none but noble's suite). */
export function frostSignatureVerifies(scheme: FrostScheme, signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (scheme === 'eddsa-ed25519') return opensslEd25519Verifies(signature, message, publicKey);
  if (scheme === 'schnorr-bip340') return schnorr.verify(signature, message, publicKey);
  return frostSuite(scheme).verify(signature, message, publicKey);
}

/** All k-element subsets of `xs`, in order. */
export function subsets<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...rest] = xs;
  return [...subsets(rest, k - 1).map((s) => [h!, ...s]), ...subsets(rest, k)];
}
