/**
 * The node adapter shared by the two FROST schemes (Ed25519 and BIP340): they differ only in
 * their ciphersuite, which the protocol functions take by scheme name.
 */
import { mapOutput } from '../core/compose.ts';
import { hashTranscript, zeroize } from '../core/transcript.ts';
import { frostSignCoordinated, frostSignCoordinatedProtocol } from '../frost/sign-coordinated.ts';
import { frostSuite } from '../curves/ciphersuites.ts';
import { decodeFrostPresignature, encodeFrostPresignature, frostCommitAhead, frostPresignedSignProtocol, frostSignPresigned } from '../frost/presigned.ts';
import { frostDkg, frostDkgProtocol } from '../threshold/dkg.ts';
import type { FrostKeyShare } from '../threshold/keys.ts';
import { decodeFrostKeyShare, encodeFrostKeyShare } from '../threshold/share-codec.ts';
import { tweakFrostKeyShare } from '../threshold/tweak.ts';
import { frostRefresh, frostRefreshProtocol } from '../threshold/refresh.ts';
import { frostRepairHelper, frostRepairProtocol, frostRepairTarget } from '../threshold/repair.ts';
import { frostReshare, frostReshareProtocol } from '../threshold/reshare.ts';
import type { SchemeAdapter } from './types.ts';

export function frostAdapter(scheme: 'eddsa-ed25519' | 'schnorr-bip340'): SchemeAdapter<FrostKeyShare> {
  return {
    dkgProtocol: frostDkgProtocol(scheme),
    dkg: (threshold) => frostDkg({ scheme, threshold }),
    signProtocol: frostSignCoordinatedProtocol,
    // RFC 9591's coordinator model inside the signer set: the lowest signer aggregates, verifies
    // and reports; the others only contribute their shares (half the work of everyone aggregating).
    // The context travels as a hash with the commitments, so signers given different inputs
    // stop with inputs_mismatch instead of blaming each other.
    sign: (share, message, { context }) => (ctx) =>
      mapOutput(frostSignCoordinated(share, message, ctx.parties[0]!, context)(ctx), (o) => (o.kind === 'signature' ? { signature: o.signature, recoveryId: 0 } : undefined)),
    presign: {
      kind: 'local',
      make: (share, rng) => {
        const p = frostCommitAhead(share, rng);
        const secret = encodeFrostPresignature(p);
        zeroize(p.nonces.hiding, p.nonces.binding);
        return { secret, commitments: p.commitments };
      },
      signProtocol: frostPresignedSignProtocol,
      sign: (share, message, presignature, list, { context }) => (ctx) => {
        const own = decodeFrostPresignature(presignature);
        zeroize(presignature);
        return mapOutput(frostSignPresigned(share, message, ctx.parties[0]!, own, list, context)(ctx), (o) => (o.kind === 'signature' ? { signature: o.signature, recoveryId: 0 } : undefined));
      },
    },
    tweak: (share, tweak) => tweakFrostKeyShare(share, tweak),
    ...(scheme === 'schnorr-bip340' ? { tweakXOnly: (share: FrostKeyShare, tweak: Uint8Array) => tweakFrostKeyShare(share, tweak, { mode: 'x-only' }) } : {}),
    wipe: (share) => zeroize(share.signingShare),
    groupKey: (share) => share.groupKey,
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
  };
}

/** Digest of a reshared key's new public commitments, so the coordinator sees every new holder agree. */
export function reshareDigest(share: FrostKeyShare): Uint8Array {
  return hashTranscript('mpc-signer/reshare-commitments/v1', ...share.commitments, ...[...share.verifyingShares].flatMap(([p, v]) => [p, v]));
}

/** The user-facing key of a FROST scheme's group point (its ciphersuite decides: BIP340 is x-only). */
export const frostUserKey = (scheme: 'eddsa-ed25519' | 'schnorr-bip340') => (groupKey: Uint8Array): Uint8Array => frostSuite(scheme).userPublicKey(groupKey);
