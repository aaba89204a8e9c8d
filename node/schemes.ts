/**
 * One adapter per user-facing scheme: how a node runs its DKG and signing protocols, and how
 * its key share is (de)serialised for the sealed store. The node runtime is written against
 * this interface only, so FROST and DKLs23 plug in the same way.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Scheme } from '../coordinator/service.ts';
import type { Bytes } from '../protocol/core/codec.ts';
import type { ProtocolStart, Round, Transition } from '../protocol/core/party.ts';
import type { DerivationCurve } from '../protocol/derive.ts';
import { frostSuite } from '../protocol/frost/suites.ts';
import { frostDkg, frostDkgProtocol, frostSign, frostSignProtocol, type FrostKeyShare } from '../protocol/frost/index.ts';
import { decodeFrostKeyShare, encodeFrostKeyShare, frostChainCode } from './frost-share-codec.ts';

export interface SchemeSignature {
  readonly signature: Uint8Array;
  /** ECDSA recovery id; 0 for the Schnorr schemes. */
  readonly recoveryId: number;
}

export interface SchemeAdapter<S> {
  readonly scheme: Scheme;
  readonly dkgProtocol: string;
  dkg(threshold: number): ProtocolStart<S>;
  signProtocol(share: S): string;
  /** Signs under the group key, or under groupKey + tweak·G when a derivation tweak is given. */
  sign(share: S, message: Uint8Array, tweak?: Uint8Array): ProtocolStart<SchemeSignature>;
  /** The curve non-hardened derivation runs on (protocol/derive.ts). */
  readonly derivationCurve: DerivationCurve;
  /** The full group point (SEC1 compressed on secp256k1): what derivation starts from. */
  groupKey(share: S): Uint8Array;
  /** The user-facing public key (see KeyInfo.publicKey) of a full group point. */
  userKey(groupKey: Uint8Array): Uint8Array;
  chainCode(share: S): Uint8Array;
  threshold(share: S): number;
  encode(share: S): Uint8Array;
  decode(bytes: Uint8Array): S;
}

/** Adapters hide the share type; the runtime only passes shares back to their own adapter. */
export type AnySchemeAdapter = SchemeAdapter<unknown>;

const frost = (scheme: 'eddsa-ed25519' | 'schnorr-bip340'): SchemeAdapter<FrostKeyShare> => ({
  scheme,
  dkgProtocol: frostDkgProtocol(scheme),
  dkg: (threshold) => frostDkg({ scheme, threshold }),
  signProtocol: frostSignProtocol,
  sign: (share, message, tweak) => (ctx) =>
    mapOutput(frostSign(tweak ? tweakFrostShare(share, tweak) : share, message)(ctx), (o) => ({ signature: o.signature, recoveryId: 0 })),
  derivationCurve: scheme === 'eddsa-ed25519' ? 'ed25519' : 'secp256k1',
  groupKey: (share) => share.groupKey,
  userKey: (groupKey) => frostSuite(scheme).userPublicKey(groupKey),
  chainCode: frostChainCode,
  threshold: (share) => share.threshold,
  encode: encodeFrostKeyShare,
  decode: decodeFrostKeyShare,
});

const ADAPTERS: Partial<Record<Scheme, AnySchemeAdapter>> = {
  'eddsa-ed25519': frost('eddsa-ed25519') as AnySchemeAdapter,
  'schnorr-bip340': frost('schnorr-bip340') as AnySchemeAdapter,
};

/** The adapter for a scheme, or undefined while the scheme is not implemented. */
export function schemeAdapter(scheme: Scheme): AnySchemeAdapter | undefined {
  return ADAPTERS[scheme];
}

/**
 * The share of the child key groupKey + δ·G: every share, verifying share and the constant
 * commitment move by δ (Lagrange coefficients sum to 1, so any t signers still interpolate).
 */
export function tweakFrostShare(share: FrostKeyShare, tweak: Uint8Array): FrostKeyShare {
  const Fn = frostSuite(share.scheme).frost.utils.Fn;
  const delta = Fn.fromBytes(tweak);
  if (delta === 0n) return share;
  const move =
    share.scheme === 'eddsa-ed25519'
      ? (p: Uint8Array) => ed25519.Point.fromBytes(p).add(ed25519.Point.BASE.multiply(delta)).toBytes() as Bytes
      : (p: Uint8Array) => secp256k1.Point.fromBytes(p).add(secp256k1.Point.BASE.multiply(delta)).toBytes(true) as Bytes;
  const [c0, ...rest] = share.commitments;
  return {
    ...share,
    groupKey: move(share.groupKey),
    commitments: [move(c0!), ...rest],
    verifyingShares: new Map([...share.verifyingShares].map(([id, v]) => [id, move(v)])),
    signingShare: Fn.toBytes(Fn.add(Fn.fromBytes(share.signingShare), delta)) as Bytes,
  };
}

/** Maps a protocol's output without touching its rounds. */
function mapOutput<A, B>(t: Transition<A>, f: (a: A) => B): Transition<B> {
  if ('output' in t) return { send: t.send, output: f(t.output) };
  return { send: t.send, next: mapRound(t.next, f) };
}

function mapRound<A, B>(r: Round<A>, f: (a: A) => B): Round<B> {
  return { ...r, finish: () => mapOutput(r.finish(), f) };
}
