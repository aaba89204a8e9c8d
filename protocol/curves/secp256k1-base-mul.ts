/**
 * x·G on secp256k1 for a secret scalar, by OpenSSL (constant time, ~1.5x faster here than noble's
 * blinded multiplication): DKLs23's instance keys and correlation points, FROST-BIP340's nonce
 * commitments. The scalar's bytes are wiped; OpenSSL clears its copy when the ECDH object is
 * collected.
 */
import { createECDH } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';

const Fn = secp256k1.Point.Fn;

/** x·G as 65-byte uncompressed SEC1 (04 ‖ X ‖ Y), for x in [1, n). */
export function secp256k1BaseMul(x: bigint): Uint8Array {
  if (x === 0n || !Fn.isValid(x)) throw new RangeError('scalar out of range for a base multiplication');
  const secret = Fn.toBytes(x);
  try {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(secret);
    return new Uint8Array(ecdh.getPublicKey());
  } finally {
    secret.fill(0);
  }
}

/** The 33-byte compressed encoding of a 65-byte uncompressed one (no square root needed). */
export function compressSec1(uncompressed: Uint8Array): Uint8Array {
  const out = new Uint8Array(33);
  out[0] = (uncompressed[64]! & 1) === 1 ? 0x03 : 0x02;
  out.set(uncompressed.subarray(1, 33), 1);
  return out;
}
