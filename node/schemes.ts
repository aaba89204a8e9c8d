/**
 * One adapter per user-facing scheme: how a node runs its DKG and signing protocols, and how
 * its key share is (de)serialised for the sealed store. The node runtime is written against
 * this interface only, so FROST and DKLs23 plug in the same way.
 */
import type { Scheme } from '../coordinator/service.ts';
import { mapOutput } from '../protocol/core/compose.ts';
import type { ProtocolStart } from '../protocol/core/party.ts';
import type { DerivationCurve } from '../protocol/derive.ts';
import { frostSuite } from '../protocol/frost/suites.ts';
import {
  decodeFrostKeyShare,
  encodeFrostKeyShare,
  frostDkg,
  frostDkgProtocol,
  frostSignCoordinated,
  frostSignCoordinatedProtocol,
  tweakFrostKeyShare,
  type FrostKeyShare,
} from '../protocol/frost/index.ts';
import { frostRefresh, frostRefreshProtocol } from '../protocol/frost/refresh.ts';
import { frostRepairHelper, frostRepairProtocol, frostRepairTarget } from '../protocol/frost/repair.ts';
import { frostReshare, frostReshareProtocol } from '../protocol/frost/reshare.ts';
import { hashTranscript } from '../protocol/core/transcript.ts';
import { decodeDklsKeyShare, dklsKeygen, dklsRefresh, dklsRefreshProtocol, dklsReshare, dklsReshareProtocol, dklsKeygenProtocol, dklsSign, dklsSignProtocol, encodeDklsKeyShare, type DklsKeyShare } from '../protocol/dkls23/index.ts';
import { zeroizeDklsKeyShare } from '../protocol/dkls23/keys.ts';
import type { OtPairGuard } from '../protocol/dkls23/sign.ts';
import { zeroize } from '../protocol/core/transcript.ts';
import type { PartyId } from '../protocol/core/ids.ts';
import type { ProtocolAbort } from '../protocol/core/errors.ts';

/** What a signer ends a session with: the signature, or nothing when another signer aggregates. */
export type SchemeSignature =
  | { readonly signature: Uint8Array; /** ECDSA recovery id; 0 for the Schnorr schemes. */ readonly recoveryId: number }
  | undefined;

export interface SchemeAdapter<S> {
  readonly scheme: Scheme;
  readonly dkgProtocol: string;
  dkg(threshold: number): ProtocolStart<S>;
  signProtocol(share: S): string;
  /** Signs under the share's group key (tweak it first with `tweak` for a derived child). */
  sign(share: S, message: Uint8Array, opts: SignOptions): ProtocolStart<SchemeSignature>;
  /** The share of the child key groupKey + tweak·G (a new object; wipe it as well as the parent). */
  tweak(share: S, tweak: Uint8Array): S;
  /** Zeroises the secret bytes of a decoded share; the runtime calls it when a session ends. */
  wipe(share: S): void;
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
  /** Share repair: helpers' and the lost participant's sides; undefined when the scheme has none yet. */
  readonly repair?: { protocol: string; helper(share: S, lost: PartyId): ProtocolStart<unknown>; target(): ProtocolStart<S> };
  /** Resharing to a new committee/threshold; the output is undefined for dealers that leave. */
  readonly reshare?: {
    protocol: string;
    start(params: { dealers: readonly PartyId[]; newParties: readonly PartyId[]; newThreshold: number }, share: S | undefined): ProtocolStart<S | undefined>;
    /** Digest of the new public commitments, so the coordinator sees every new holder agree. */
    digest(share: S): Uint8Array;
  };
  /**
   * Schemes whose key shares carry long-term pairwise state (DKLs23's base OTs): which peers an
   * abort proves must never again use that state with this node.
   */
  readonly pairwiseSetup?: { compromisedBy(abort: ProtocolAbort): readonly PartyId[] };
  /**
   * Repair is a resharing to the same committee in which the lost node only receives (instead
   * of `repair`): for schemes whose shares hold pairwise state that a repair cannot rebuild.
   */
  readonly repairByResharing?: true;
  /** Proactive refresh with every holder; undefined when the scheme has none yet. */
  readonly refresh?: { protocol(share: S): string; start(share: S): ProtocolStart<S> };
}

export interface SignOptions {
  /** Public inputs beyond the protocol's own (key id, epoch, path) that every signer must share. */
  readonly context: Uint8Array;
  /** For schemes with pairwise setups: the key's shared retirement of cheating peers. */
  readonly guard?: OtPairGuard;
}

/** Adapters hide the share type; the runtime only passes shares back to their own adapter. */
export type AnySchemeAdapter = SchemeAdapter<unknown>;

const frost = (scheme: 'eddsa-ed25519' | 'schnorr-bip340'): SchemeAdapter<FrostKeyShare> => ({
  scheme,
  dkgProtocol: frostDkgProtocol(scheme),
  dkg: (threshold) => frostDkg({ scheme, threshold }),
  signProtocol: frostSignCoordinatedProtocol,
  // RFC 9591's coordinator model inside the signer set: the lowest signer aggregates, verifies
  // and reports; the others only contribute their shares (half the work of everyone aggregating).
  // FROST binds its shares to the message and the commitment list; each signer's nonces are
  // fresh per session, so the context needs no round of its own.
  sign: (share, message) => (ctx) =>
    mapOutput(frostSignCoordinated(share, message, ctx.parties[0]!)(ctx), (o) => (o.kind === 'signature' ? { signature: o.signature, recoveryId: 0 } : undefined)),
  tweak: (share, tweak) => tweakFrostKeyShare(share, tweak),
  wipe: (share) => zeroize(share.signingShare),
  derivationCurve: scheme === 'eddsa-ed25519' ? 'ed25519' : 'secp256k1',
  groupKey: (share) => share.groupKey,
  userKey: (groupKey) => frostSuite(scheme).userPublicKey(groupKey),
  chainCode: (share) => {
    if (!share.chainCode) throw new Error('this FROST key share has no chain code');
    return share.chainCode;
  },
  threshold: (share) => share.threshold,
  encode: encodeFrostKeyShare,
  decode: decodeFrostKeyShare,
  refresh: { protocol: frostRefreshProtocol, start: frostRefresh },
  repair: { protocol: frostRepairProtocol(scheme), helper: (share, lost) => frostRepairHelper(share, lost), target: () => frostRepairTarget(scheme) },
  reshare: {
    protocol: frostReshareProtocol(scheme),
    start: (params, share) => (ctx) => mapOutput(frostReshare({ scheme, ...params }, share)(ctx), (o) => ('dealt' in o ? undefined : o)),
    digest: reshareDigest,
  },
});

/**
 * DKLs23 threshold ECDSA. The key share's core is the plain secp256k1 Shamir share, so BIP32
 * derivation tweaks it exactly as FROST's (every share and public share moves by δ·G); the
 * pairwise OT setup does not depend on the key and is reused as is.
 */
const dkls: SchemeAdapter<DklsKeyShare> = {
  scheme: 'ecdsa-secp256k1',
  dkgProtocol: dklsKeygenProtocol,
  dkg: (threshold) => dklsKeygen({ threshold }),
  signProtocol: () => dklsSignProtocol,
  // The lowest signer combines and verifies; the others only contribute (as with FROST).
  sign: (share, digest, { context, guard }) => (ctx) =>
    mapOutput(dklsSign(share, digest, { aggregator: ctx.parties[0]!, context, ...(guard ? { guard } : {}) })(ctx), (o) =>
      o ? { signature: o.signature, recoveryId: o.recoveryId } : undefined,
    ),
  // The child shares the parent's pairwise setups (wiping both is harmless); only the core moves.
  tweak: (share, tweak) => ({ ...share, core: tweakFrostKeyShare(share.core, tweak) }),
  wipe: zeroizeDklsKeyShare,
  derivationCurve: 'secp256k1',
  groupKey: (share) => share.core.groupKey,
  userKey: (groupKey) => groupKey,
  chainCode: (share) => {
    if (!share.core.chainCode) throw new Error('this ECDSA key share has no chain code');
    return share.core.chainCode;
  },
  threshold: (share) => share.core.threshold,
  encode: encodeDklsKeyShare,
  decode: decodeDklsKeyShare,
  // A failed KOS or multiplication check names the peer that cheated against this node's
  // OT setup; sessions over the same base OTs must not be offered to it again.
  pairwiseSetup: { compromisedBy: (abort) => (abort.reason === 'consistency_check_failed' || abort.reason === 'pair_retired' ? abort.culprits : []) },
  refresh: { protocol: () => dklsRefreshProtocol, start: dklsRefresh },
  reshare: {
    protocol: dklsReshareProtocol,
    start: (params, share) => dklsReshare(params, share),
    digest: (share) => reshareDigest(share.core),
  },
  // The lost node needs fresh OT setups with every holder as well as a share: resharing makes both.
  repairByResharing: true,
};

/** Digest of a reshared key's new public commitments, so the coordinator sees every new holder agree. */
function reshareDigest(share: FrostKeyShare): Uint8Array {
  return hashTranscript('mpc-signer/reshare-commitments/v1', ...share.commitments, ...[...share.verifyingShares].flatMap(([p, v]) => [p, v]));
}

const ADAPTERS: Partial<Record<Scheme, AnySchemeAdapter>> = {
  'ecdsa-secp256k1': dkls as AnySchemeAdapter,
  'eddsa-ed25519': frost('eddsa-ed25519') as AnySchemeAdapter,
  'schnorr-bip340': frost('schnorr-bip340') as AnySchemeAdapter,
};

/** The adapter for a scheme, or undefined while the scheme is not implemented. */
export function schemeAdapter(scheme: Scheme): AnySchemeAdapter | undefined {
  return ADAPTERS[scheme];
}
