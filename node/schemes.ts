/**
 * One adapter per user-facing scheme: how a node runs its DKG and signing protocols, and how
 * its key share is (de)serialised for the sealed store. The node runtime is written against
 * this interface only, so FROST and DKLs23 plug in the same way.
 */
import type { Scheme } from '../coordinator/service.ts';
import type { ProtocolStart } from '../protocol/core/party.ts';
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
  sign(share: S, message: Uint8Array): ProtocolStart<SchemeSignature>;
  /** The group public key in the user-facing format (see KeyInfo.publicKey). */
  publicKey(share: S): Uint8Array;
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
  sign: (share, message) => (ctx) => mapOutput(frostSign(share, message)(ctx), (o) => ({ signature: o.signature, recoveryId: 0 })),
  publicKey: (share) => (scheme === 'schnorr-bip340' ? share.groupKey.subarray(1) : share.groupKey),
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

import type { Round, Transition } from '../protocol/core/party.ts';

/** Maps a protocol's output without touching its rounds. */
function mapOutput<A, B>(t: Transition<A>, f: (a: A) => B): Transition<B> {
  if ('output' in t) return { send: t.send, output: f(t.output) };
  return { send: t.send, next: mapRound(t.next, f) };
}

function mapRound<A, B>(r: Round<A>, f: (a: A) => B): Round<B> {
  return { ...r, finish: () => mapOutput(r.finish(), f) };
}
