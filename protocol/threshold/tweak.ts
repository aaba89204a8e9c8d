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
import { frostSuite } from '../curves/ciphersuites.ts';
import { add, mulBase, negate, type Group } from '../curves/group.ts';
import type { Bytes } from '../core/codec.ts';
import { ProtocolConfigError } from '../core/errors.ts';
import type { FrostKeyShare } from './keys.ts';

export interface TweakOptions {
  readonly mode?: 'point' | 'x-only';
}

/** P' = (negate ? −P : P) + δ·G, encoded. */
function shift(group: Group, point: Uint8Array, delta: bigint, negateIt: boolean): Bytes {
  let p = group.decode(point);
  if (negateIt) p = negate(p);
  return group.serialize(delta === 0n ? p : add(p, mulBase(group, delta)));
}

/**
 * The share of the tweaked key. `tweak` is δ as 32 bytes in the suite's scalar byte order
 * (little-endian on Ed25519, big-endian on secp256k1), reduced (< group order). The result
 * carries no chain code: it is a child key, whose chain code the derivation tracks.
 */
export function tweakFrostKeyShare(share: FrostKeyShare, tweak: Uint8Array, opts: TweakOptions = {}): FrostKeyShare {
  const suite = frostSuite(share.scheme);
  const group = suite.group;
  const Fn = group.Fn;
  const mode = opts.mode ?? 'point';
  if (mode === 'x-only' && !suite.xOnly) throw new ProtocolConfigError('x-only tweaks apply to schnorr-bip340 keys only');
  if (tweak.length !== 32) throw new ProtocolConfigError('a tweak is 32 bytes');
  let delta: bigint;
  try {
    delta = Fn.fromBytes(tweak);
  } catch {
    throw new ProtocolConfigError('tweak is not a reduced scalar');
  }
  const negateAll = mode === 'x-only' && group.hasOddY(group.decode(share.groupKey));
  const [c0, ...rest] = share.commitments;
  const x = Fn.fromBytes(share.signingShare);
  const { chainCode: _parentChainCode, ...withoutChainCode } = share;
  return {
    ...withoutChainCode,
    groupKey: shift(group, share.groupKey, delta, negateAll),
    commitments: [shift(group, c0!, delta, negateAll), ...rest.map((c) => (negateAll ? shift(group, c, 0n, true) : c))],
    verifyingShares: new Map([...share.verifyingShares].map(([id, v]) => [id, shift(group, v, delta, negateAll)])),
    signingShare: Fn.toBytes(Fn.add(negateAll ? Fn.neg(x) : x, delta)) as Bytes,
  };
}
