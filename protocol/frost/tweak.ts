/**
 * Signing under an additively tweaked key Y' = Y + δ·G without anyone learning the secret:
 * every party adds δ to its signing share, and every verifying share and the constant
 * commitment move by δ·G. Lagrange coefficients at 0 sum to 1 over any signer set, so any t
 * tweaked shares interpolate to x + δ. This is what non-hardened BIP32 derivation (protocol/
 * derive.ts gives δ) and BIP341 Taproot tweaks need.
 *
 * BIP340 and even Y. `mode: 'point'` (default) adds δ·G to the full point Y, as BIP32 CKDpub
 * does; Y' may have odd Y, which is fine: noble's FROST-secp256k1-TR signing normalises the
 * group key to even Y at signing time (negating shares and verifying shares as needed), so the
 * signature verifies under the x-only key x(Y'). `mode: 'x-only'` is BIP341's tweak of an
 * x-only key: Y is first replaced by its even-Y twin (negating every share, verifying share and
 * commitment when Y is odd), then moved by δ·G, giving Q = lift_x(x(Y)) + δ·G.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Bytes } from '../core/codec.ts';
import { ProtocolConfigError } from '../core/errors.ts';
import type { FrostKeyShare } from './keys.ts';

export interface TweakOptions {
  readonly mode?: 'point' | 'x-only';
}

interface GroupOps {
  readonly Fn: { fromBytes(b: Uint8Array): bigint; toBytes(n: bigint): Uint8Array; add(a: bigint, b: bigint): bigint; neg(a: bigint): bigint; ORDER: bigint };
  shift(point: Uint8Array, delta: bigint, negate: boolean): Bytes;
  isOddY(point: Uint8Array): boolean;
}

const edOps: GroupOps = {
  Fn: ed25519.Point.Fn,
  shift: (b, delta, negate) => {
    let p = ed25519.Point.fromBytes(b);
    if (negate) p = p.negate();
    return (delta === 0n ? p : p.add(ed25519.Point.BASE.multiply(delta))).toBytes() as Bytes;
  },
  isOddY: () => false,
};

const secpOps: GroupOps = {
  Fn: secp256k1.Point.Fn,
  shift: (b, delta, negate) => {
    let p = secp256k1.Point.fromBytes(b);
    if (negate) p = p.negate();
    return (delta === 0n ? p : p.add(secp256k1.Point.BASE.multiply(delta))).toBytes(true) as Bytes;
  },
  isOddY: (b) => b[0] === 3,
};

/**
 * The share of the tweaked key. `tweak` is δ as 32 bytes in the suite's scalar byte order
 * (little-endian on Ed25519, big-endian on secp256k1), reduced (< group order). The result
 * carries no chain code: it is a child key, whose chain code the derivation tracks.
 */
export function tweakFrostKeyShare(share: FrostKeyShare, tweak: Uint8Array, opts: TweakOptions = {}): FrostKeyShare {
  const ops = share.scheme === 'eddsa-ed25519' ? edOps : secpOps;
  const mode = opts.mode ?? 'point';
  if (mode === 'x-only' && share.scheme !== 'schnorr-bip340') throw new ProtocolConfigError('x-only tweaks apply to schnorr-bip340 keys only');
  if (tweak.length !== 32) throw new ProtocolConfigError('a tweak is 32 bytes');
  let delta: bigint;
  try {
    delta = ops.Fn.fromBytes(tweak);
  } catch {
    throw new ProtocolConfigError('tweak is not a reduced scalar');
  }
  const negate = mode === 'x-only' && ops.isOddY(share.groupKey);
  const [c0, ...rest] = share.commitments;
  const x = ops.Fn.fromBytes(share.signingShare);
  const { chainCode: _parentChainCode, ...withoutChainCode } = share;
  return {
    ...withoutChainCode,
    groupKey: ops.shift(share.groupKey, delta, negate),
    commitments: [ops.shift(c0!, delta, negate), ...rest.map((c) => (negate ? ops.shift(c, 0n, true) : c))],
    verifyingShares: new Map([...share.verifyingShares].map(([id, v]) => [id, ops.shift(v, delta, negate)])),
    signingShare: ops.Fn.toBytes(ops.Fn.add(negate ? ops.Fn.neg(x) : x, delta)) as Bytes,
  };
}
