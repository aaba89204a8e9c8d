/**
 * secp256k1 through libsecp256k1 (Bitcoin Core's library, compiled to WebAssembly by
 * bitcoinjs's tiny-secp256k1). Public values: points kept as 33-byte compressed encodings,
 * validated, added and multiplied by a public scalar; BIP340 and ECDSA verification. Secret
 * scalars: x·G and k·P by libsecp256k1's constant-time multiplications. On this project's 2-core
 * host: ~0.03 against noble's ~0.1–0.2 ms to decode a point; 0.15–0.4 ms for any multiple of a
 * point, against ~0.7 for noble's 64-bit two-term MSM, ~2.2 for the GLV walk DKLs23 had and ~5
 * for noble's constant-time multiply; ~0.22 against OpenSSL's ~0.8 ms for x·G; ~0.3 ms for a
 * verification against noble's ~0.9 (BIP340) and ~2.7 (ECDSA).
 *
 * A secret scalar's bytes are wiped here, and tiny-secp256k1 wipes its input buffers in the
 * module's memory after every call; what libsecp256k1 leaves on its own stack in that memory
 * (the scalar's limbs, until the next call overwrites them) is not reachable to wipe, as noble's
 * bigints are not (SECURITY.md).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import * as libsecp from 'tiny-secp256k1';

const Fn = secp256k1.Point.Fn;

/** Whether 33 bytes are a compressed SEC1 point on the curve: prefix 02 or 03, x < p (so never the point at infinity). */
export function isValidSecp256k1Encoding(b: Uint8Array): boolean {
  return b.length === 33 && (b[0] === 2 || b[0] === 3) && libsecp.isPoint(b);
}

/**
 * The 65-byte uncompressed encoding of a valid compressed one (libsecp256k1's square root, ~0.03
 * against noble's ~0.1–0.2 ms here), or undefined when it is not a valid compressed encoding.
 */
export function decompressSecp256k1(b: Uint8Array): Uint8Array | undefined {
  if (!isValidSecp256k1Encoding(b)) return undefined;
  return libsecp.pointCompress(b, false);
}

/**
 * A secp256k1 point as its compressed encoding, for sums and multiples of validated points
 * (`isValidSecp256k1Encoding`). The point at infinity has no encoding: it is `ZERO`, which a sum
 * of a point and its negation, or a multiple by 0, gives, and which only `toBytes` refuses.
 */
export class Secp256k1Encoded {
  static readonly ZERO = new Secp256k1Encoded(new Uint8Array());
  private readonly bytes: Uint8Array;
  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  /** The point of a validated encoding (the caller has checked it). */
  static of(validated: Uint8Array): Secp256k1Encoded {
    return new Secp256k1Encoded(Uint8Array.from(validated));
  }
  add(other: Secp256k1Encoded): Secp256k1Encoded {
    if (this === Secp256k1Encoded.ZERO) return other;
    if (other === Secp256k1Encoded.ZERO) return this;
    // Valid operands: libsecp256k1 refuses only a sum at infinity (P + (−P)).
    const sum = libsecp.pointAdd(this.bytes, other.bytes, true);
    return sum === null ? Secp256k1Encoded.ZERO : new Secp256k1Encoded(sum);
  }
  /** s·P for a public s in [1, n) (32 bytes, big-endian). */
  multiplyPublic(s: Uint8Array): Secp256k1Encoded {
    if (this === Secp256k1Encoded.ZERO) return this;
    return new Secp256k1Encoded(atInfinity(libsecp.pointMultiply(this.bytes, s, true)));
  }
  /** k·P for a secret k in [0, n), constant time in k for k ≠ 0 (`secp256k1MulSecret`). */
  multiplySecret(k: bigint): Secp256k1Encoded {
    if (this === Secp256k1Encoded.ZERO || k === 0n) return Secp256k1Encoded.ZERO;
    return new Secp256k1Encoded(secp256k1MulSecret(this.bytes, k));
  }
  /** x·G for a secret x in [0, n) (`secp256k1BaseMulSecret` for x ≠ 0). */
  static baseMultiplySecret(x: bigint): Secp256k1Encoded {
    return x === 0n ? Secp256k1Encoded.ZERO : new Secp256k1Encoded(secp256k1BaseMulSecret(x));
  }
  isZero(): boolean {
    return this === Secp256k1Encoded.ZERO;
  }
  /** Whether both are the same point (encodings are canonical). */
  equals(other: Secp256k1Encoded): boolean {
    return this.bytes.length === other.bytes.length && this.bytes.every((b, i) => b === other.bytes[i]);
  }
  /** The affine x coordinate, in [0, p). */
  x(): bigint {
    if (this === Secp256k1Encoded.ZERO) throw new RangeError('the point at infinity has no coordinates');
    return bytesToNumberBE(this.bytes.subarray(1));
  }
  /** Whether y is odd (the 03 prefix). */
  hasOddY(): boolean {
    return this.bytes[0] === 3;
  }
  toBytes(): Uint8Array {
    if (this === Secp256k1Encoded.ZERO) throw new RangeError('the point at infinity has no encoding');
    return Uint8Array.from(this.bytes);
  }
}

function atInfinity(p: Uint8Array | null): Uint8Array {
  if (p === null) throw new RangeError('the point at infinity has no encoding');
  return p;
}

/**
 * BIP340 verification by libsecp256k1 for a 32-byte message (the length tiny-secp256k1 takes);
 * undefined for any other length, for the caller to verify otherwise. Inputs it refuses to
 * parse (a key not on the curve, r ≥ p, s ≥ n) verify as false, as BIP340 says.
 */
export function verifyBip340Libsecp(signature: Uint8Array, message: Uint8Array, xOnlyKey: Uint8Array): boolean | undefined {
  if (message.length !== 32) return undefined;
  if (signature.length !== 64 || xOnlyKey.length !== 32) return false;
  try {
    return libsecp.verifySchnorr(message, xOnlyKey, signature);
  } catch {
    return false;
  }
}

/**
 * ECDSA verification by libsecp256k1 of a 64-byte r ‖ s over a 32-byte digest, strict: a high s
 * (BIP62 / EIP-2) is refused, as are r or s of 0 or ≥ n and a key that does not parse.
 */
export function verifyEcdsaLibsecp(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || digest.length !== 32) return false;
  try {
    return libsecp.verify(digest, publicKey, signature, true);
  } catch {
    return false;
  }
}

/**
 * ECDSA verification of r ‖ s with its recovery id by libsecp256k1's key recovery, strict as
 * `verifyEcdsaLibsecp`. The key recovered, r⁻¹(s·R − e·G) for the R of x-coordinate r and the id's
 * parity, equals Q exactly when s·R = e·G + r·Q, the ECDSA equation: one recovery checks both the
 * signature and its id (what `ecrecover` will give a contract), for the price of one verification.
 * Only ids 0 and 1: ours never have r ≥ n (a chance of ~2⁻¹²⁸), and Ethereum takes no other.
 */
export function verifyEcdsaRecoverableLibsecp(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array, recoveryId: number): boolean {
  if (signature.length !== 64 || digest.length !== 32 || publicKey.length !== 33 || (recoveryId !== 0 && recoveryId !== 1)) return false;
  if (bytesToNumberBE(signature.subarray(32)) > Fn.ORDER >> 1n) return false; // high s (BIP62 / EIP-2)
  try {
    const recovered = libsecp.recover(digest, signature, recoveryId, true);
    return recovered !== null && Buffer.from(recovered).equals(Buffer.from(publicKey));
  } catch {
    return false; // r or s of 0 or ≥ n, or an r that is no point's x-coordinate
  }
}

/** x·G for a secret x in [1, n), in constant time, compressed. */
export function secp256k1BaseMulSecret(x: bigint): Uint8Array {
  return withScalarBytes(x, (k) => libsecp.pointFromScalar(k, true));
}

/**
 * k·P for a secret k in [1, n) and a point's valid SEC1 encoding, constant time in k,
 * compressed. P is public (its encoding is not wiped).
 */
export function secp256k1MulSecret(point: Uint8Array, k: bigint): Uint8Array {
  return withScalarBytes(k, (kb) => libsecp.pointMultiply(point, kb, true));
}

function withScalarBytes(x: bigint, multiply: (k: Uint8Array) => Uint8Array | null): Uint8Array {
  if (x === 0n || !Fn.isValid(x)) throw new RangeError('scalar out of range for a secret multiplication');
  const k = Fn.toBytes(x);
  try {
    return atInfinity(multiply(k));
  } finally {
    k.fill(0);
  }
}
