/**
 * x·B on edwards25519 for a secret scalar, by libsodium's constant-time fixed-base multiplication
 * (`crypto_scalarmult_ed25519_base_noclamp`, compiled to WebAssembly): FROST-Ed25519's nonce
 * commitments D = d·B and E = e·B. noble's blinded multiplication takes ~0.6 ms here and was a
 * ninth of a node's CPU per Ed25519 signature; this takes ~0.06 ms. The same job for secp256k1
 * is OpenSSL's (secp256k1-base-mul.ts); OpenSSL offers no edwards25519 point for a scalar of
 * ours (its X25519 gives a u-coordinate only, without the sign an Edwards point needs).
 *
 * The scalar is copied into the module's memory and wiped there once the product is out.
 * libsodium.js's own wrapper functions free their copies without wiping, so this calls the
 * module's exports directly.
 */
import sodium from 'libsodium-wrappers-sumo';
import { ed25519 } from '@noble/curves/ed25519.js';

/** The exports of the libsodium WebAssembly module this file uses (libsodium.js leaves them untyped). */
interface SodiumModule {
  /** The module's memory; replaced when it grows, so read it after every call that may allocate. */
  readonly HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(address: number): void;
  /** q = n·B for a 32-byte little-endian n < 2^255 (no clamping); −1 when q is the identity. */
  _crypto_scalarmult_ed25519_base_noclamp(q: number, n: number): number;
}

await sodium.ready;
const exported = (sodium as unknown as { readonly libsodium?: Partial<SodiumModule> }).libsodium;
if (typeof exported?._crypto_scalarmult_ed25519_base_noclamp !== 'function' || typeof exported._malloc !== 'function' || typeof exported._free !== 'function') {
  throw new Error('libsodium-wrappers-sumo no longer exposes its module: ed25519-base-mul.ts needs updating');
}
const lib = exported as SodiumModule;

const Fn = ed25519.Point.Fn;

/** The 32-byte encoding of x·B, for x in [1, L). */
export function ed25519BaseMul(x: bigint): Uint8Array {
  if (x === 0n || !Fn.isValid(x)) throw new RangeError('scalar out of range for a base multiplication');
  const secret = Fn.toBytes(x);
  const address = lib._malloc(64);
  if (address === 0) throw new Error('libsodium: out of memory');
  try {
    lib.HEAPU8.set(secret, address);
    // Cannot fail for x in [1, L): B has order L.
    if (lib._crypto_scalarmult_ed25519_base_noclamp(address + 32, address) !== 0) throw new Error('libsodium refused a base multiplication');
    return lib.HEAPU8.slice(address + 32, address + 64);
  } finally {
    lib.HEAPU8.fill(0, address, address + 32);
    lib._free(address);
    secret.fill(0);
  }
}
