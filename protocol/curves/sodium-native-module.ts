/**
 * libsodium as a native addon (`sodium-native`, the Holepunch binding; prebuilt for the common
 * platforms, no install script): the edwards25519 operations ed25519-sodium.ts uses, about twice
 * as fast as the same C compiled to WebAssembly (sodium-module.ts, kept for ristretto255, which
 * the binding does not expose), and the Ed25519 signatures of ed25519-signatures.ts. Its
 * functions work on the caller's buffers, so a secret is never copied into a module heap that
 * would need wiping. The binding ships no types: the
 * functions used are declared here and checked at load.
 */
import { createRequire } from 'node:module';

/** The functions used, as sodium-native declares them: results go to `q`/`r`; they throw on failure. */
export interface SodiumNative {
  /** q = n·B for a 32-byte little-endian n < 2^255 (no clamping); throws when q is the identity. */
  crypto_scalarmult_ed25519_base_noclamp(q: Uint8Array, n: Uint8Array): void;
  /** q = n·p (no clamping); throws when p is not a valid point of prime order or q is the identity. */
  crypto_scalarmult_ed25519_noclamp(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  /** Canonical, on the curve, in the prime-order subgroup and not of small order. */
  crypto_core_ed25519_is_valid_point(p: Uint8Array): boolean;
  /** r = p + q; throws when p or q is not a valid encoding. */
  crypto_core_ed25519_add(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  /** r = p − q; throws when p or q is not a valid encoding. */
  crypto_core_ed25519_sub(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  /** RFC 8032 key pair from a 32-byte seed: pk (32 bytes) and sk = seed ‖ pk (64 bytes). */
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  /** sig (64 bytes) = the RFC 8032 signature of m under sk. */
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  /** RFC 8032 verification, refusing non-canonical S and A and small-order R and A. */
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
  /** Memory outside the JavaScript heap, locked out of swap, between guard pages. */
  sodium_malloc(size: number): Buffer;
  sodium_memzero(b: Uint8Array): void;
}

const FUNCTIONS = [
  'crypto_scalarmult_ed25519_base_noclamp',
  'crypto_scalarmult_ed25519_noclamp',
  'crypto_core_ed25519_is_valid_point',
  'crypto_core_ed25519_add',
  'crypto_core_ed25519_sub',
  'crypto_sign_seed_keypair',
  'crypto_sign_detached',
  'crypto_sign_verify_detached',
  'sodium_malloc',
  'sodium_memzero',
] as const satisfies readonly (keyof SodiumNative)[];

const loaded = createRequire(import.meta.url)('sodium-native') as Partial<Record<(typeof FUNCTIONS)[number], unknown>>;
const missing = FUNCTIONS.filter((name) => typeof loaded[name] !== 'function');
if (missing.length) throw new Error(`sodium-native no longer exposes ${missing.join(', ')}: sodium-native-module.ts needs updating`);
export const sodiumNative = loaded as SodiumNative;
