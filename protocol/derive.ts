/**
 * Non-hardened key derivation for threshold keys: only public data goes in (the group public
 * key and the chain code agreed at key generation), and what comes out is the child public key,
 * its chain code, and the additive tweak δ with child = parent + δ·G. Every signer adds δ to its
 * share (Lagrange coefficients sum to 1, so the group secret moves by exactly δ); nobody ever
 * holds the parent or child private key.
 *
 * secp256k1 (`ecdsa-secp256k1`, `schnorr-bip340`): BIP32 CKDpub exactly, so wallets' xpub
 * derivation agrees. For BIP340 keys the full compressed point is derived (its parity is part of
 * the BIP32 input) and the child's x-only key is the user-facing key.
 *
 * Ed25519 has no BIP32; `eddsa-ed25519` uses the same construction on edwards25519:
 *   I = HMAC-SHA512(key = chain code, data = "mpc-signer/ed25519-ckd/v1" ‖ A ‖ ser32(i))
 *   δ_i = LE(I[0..32]) mod L, A_child = A + δ_i·B, c_child = I[32..64]
 * with A the 32-byte RFC 8032 encoding of the parent key and ser32 big-endian, as in BIP32.
 * Indices ≥ 2^31 (hardened) are refused for every scheme: hardened steps need the private key.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE, concatBytes, numberToBytesBE, numberToBytesLE } from '@noble/curves/utils.js';
import { createBase58check } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { ProtocolConfigError } from './core/errors.ts';

export const HARDENED = 0x8000_0000;
/** BIP32's depth is one byte. */
export const MAX_DEPTH = 255;
/** The longest path text `parsePath` accepts: "m" and MAX_DEPTH steps of at most 10 digits. Every layer uses this one limit. */
export const MAX_PATH_CHARS = 1 + MAX_DEPTH * 11;
const ED25519_DOMAIN = new TextEncoder().encode('mpc-signer/ed25519-ckd/v1');

export type DerivationCurve = 'secp256k1' | 'ed25519';

export interface DerivedKey {
  /** secp256k1: 33-byte compressed SEC1; ed25519: 32-byte RFC 8032 encoding. */
  readonly publicKey: Uint8Array;
  readonly chainCode: Uint8Array;
  /** δ, 32 bytes big-endian (secp256k1) or little-endian (ed25519), reduced mod the group order. */
  readonly tweak: Uint8Array;
  readonly path: readonly number[];
}

export class DerivationError extends ProtocolConfigError {
  readonly code: 'invalid_path' | 'hardened' | 'invalid_child';
  constructor(code: DerivationError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Parses `m/0/1/2`. Hardened steps (`0'`, `0h`, or indices ≥ 2^31) are refused with
 * code `hardened`; anything else malformed with `invalid_path`.
 */
export function parsePath(path: string): number[] {
  if (path.length > MAX_PATH_CHARS) throw new DerivationError('invalid_path', `a derivation path is at most ${MAX_PATH_CHARS} characters`);
  const parts = path.split('/');
  if (parts[0] !== 'm') throw new DerivationError('invalid_path', 'a derivation path starts with "m"');
  const steps = parts.slice(1);
  if (steps.length > MAX_DEPTH) throw new DerivationError('invalid_path', `a derivation path has at most ${MAX_DEPTH} steps`);
  return steps.map((step) => {
    if (/^\d+['hH]$/.test(step)) throw new DerivationError('hardened', hardenedMessage(step));
    if (!/^(0|[1-9]\d{0,9})$/.test(step)) throw new DerivationError('invalid_path', `invalid path step ${JSON.stringify(step)}`);
    const index = Number(step);
    if (index >= HARDENED) throw new DerivationError('hardened', hardenedMessage(`${index} (≥ 2^31)`));
    return index;
  });
}

/** Why a hardened step cannot be taken, and what to do instead. */
function hardenedMessage(step: string): string {
  return (
    `hardened step ${step} is not possible: hardened derivation hashes the parent's private key, which no party of a threshold key ever holds, ` +
    `so no threshold scheme can derive it. Create one key per account instead (e.g. one key for m/86'/0'/0') and derive its non-hardened children (m/0/i)`
  );
}

export function derive(curve: DerivationCurve, publicKey: Uint8Array, chainCode: Uint8Array, path: readonly number[]): DerivedKey {
  if (chainCode.length !== 32) throw new DerivationError('invalid_path', 'chain code must be 32 bytes');
  return curve === 'secp256k1' ? deriveSecp256k1(publicKey, chainCode, path) : deriveEd25519(publicKey, chainCode, path);
}

function ser32(i: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, i, false);
  return out;
}


function deriveSecp256k1(publicKey: Uint8Array, chainCode: Uint8Array, path: readonly number[]): DerivedKey {
  const { Point } = secp256k1;
  const n = Point.Fn.ORDER;
  let K = Point.fromBytes(publicKey); // validates: on curve, not identity
  let c = Uint8Array.from(chainCode);
  let tweak = 0n;
  for (const i of path) {
    if (i >= HARDENED) throw new DerivationError('hardened', `index ${i} is hardened`);
    const I = hmac(sha512, c, concatBytes(K.toBytes(true), ser32(i)));
    const IL = bytesToNumberBE(I.subarray(0, 32));
    // BIP32: such an index is invalid and the caller should use the next one; we refuse it.
    if (IL >= n) throw new DerivationError('invalid_child', `index ${i} gives an invalid child (I_L ≥ n)`);
    const child = IL === 0n ? K : K.add(Point.BASE.multiply(IL));
    if (child.equals(Point.ZERO)) throw new DerivationError('invalid_child', `index ${i} gives the point at infinity`);
    K = child;
    c = I.slice(32);
    tweak = (tweak + IL) % n;
  }
  return { publicKey: K.toBytes(true), chainCode: c, tweak: numberToBytesBE(tweak, 32), path: [...path] };
}

function deriveEd25519(publicKey: Uint8Array, chainCode: Uint8Array, path: readonly number[]): DerivedKey {
  const { Point } = ed25519;
  const L = Point.Fn.ORDER;
  let A = Point.fromBytes(publicKey);
  if (A.is0()) throw new DerivationError('invalid_path', 'the parent key is the identity');
  let c = Uint8Array.from(chainCode);
  let tweak = 0n;
  for (const i of path) {
    if (i >= HARDENED) throw new DerivationError('hardened', `index ${i} is hardened`);
    const I = hmac(sha512, c, concatBytes(ED25519_DOMAIN, A.toBytes(), ser32(i)));
    const delta = bytesToNumberLE(I.subarray(0, 32)) % L;
    const child = delta === 0n ? A : A.add(Point.BASE.multiply(delta));
    if (child.is0()) throw new DerivationError('invalid_child', `index ${i} gives the identity`);
    A = child;
    c = I.slice(32);
    tweak = (tweak + delta) % L;
  }
  return { publicKey: A.toBytes(), chainCode: c, tweak: numberToBytesLE(tweak, 32), path: [...path] };
}

/** BIP32 version bytes of an extended public key: `xpub` (mainnet) or `tpub` (every test network). */
const XPUB_VERSIONS = { mainnet: 0x0488b21e, test: 0x043587cf } as const;

/**
 * The BIP32 extended public key of a secp256k1 threshold key's root (depth 0, no parent), so
 * clients derive addresses themselves with any BIP32 library.
 */
export function encodeXpub(publicKey: Uint8Array, chainCode: Uint8Array, network: 'mainnet' | 'testnet' | 'signet' | 'regtest' = 'mainnet'): string {
  if (publicKey.length !== 33 || chainCode.length !== 32) throw new DerivationError('invalid_path', 'an xpub needs a 33-byte key and a 32-byte chain code');
  secp256k1.Point.fromBytes(publicKey);
  const version = network === 'mainnet' ? XPUB_VERSIONS.mainnet : XPUB_VERSIONS.test;
  const payload = concatBytes(ser32(version), new Uint8Array([0]), new Uint8Array(4), new Uint8Array(4), chainCode, publicKey);
  return createBase58check(sha256).encode(payload);
}
