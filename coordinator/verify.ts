/**
 * Independent verification of every signature before the coordinator returns it: OpenSSL
 * (node:crypto) for Ed25519, noble for ECDSA over a digest, noble's BIP340 verifier for Schnorr. These are not the
 * code paths that produced the signatures, so a protocol bug cannot vouch for itself.
 */
import { verify } from 'node:crypto';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { ed25519PublicKey } from '../protocol/core/curve25519-keys.ts';
import type { Scheme } from './service.ts';

export function verifySignature(scheme: Scheme, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, recoveryId?: number): boolean {
  try {
    switch (scheme) {
      case 'eddsa-ed25519': {
        if (publicKey.length !== 32 || signature.length !== 64) return false;
        return verify(null, message, ed25519PublicKey(publicKey), signature);
      }
      case 'schnorr-bip340':
        return publicKey.length === 32 && message.length === 32 && signature.length === 64 && schnorr.verify(signature, message, publicKey);
      case 'ecdsa-secp256k1': {
        // The API takes a 32-byte digest, so OpenSSL (which hashes its input) cannot check it
        // here; noble's verifier is independent of our DKLs23 code. Tests also verify with
        // OpenSSL over the digest's preimage.
        if (publicKey.length !== 33 || message.length !== 32 || signature.length !== 64) return false;
        if (!secp256k1.verify(signature, message, publicKey, { prehash: false, lowS: true })) return false;
        if (recoveryId === undefined) return true;
        const sig = secp256k1.Signature.fromBytes(signature, 'compact');
        const recovered = sig.addRecoveryBit(recoveryId).recoverPublicKey(message).toBytes(true);
        return Buffer.from(recovered).equals(Buffer.from(publicKey));
      }
    }
  } catch {
    return false;
  }
}
