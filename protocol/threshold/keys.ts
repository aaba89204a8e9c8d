/** A party's FROST key share as produced by the DKG, and its conversion to noble's packages. */
import type { FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import type { Bytes } from '../core/codec.ts';
import { ProtocolConfigError } from '../core/errors.ts';
import type { PartyId } from '../core/ids.ts';
import { zeroize } from '../core/transcript.ts';
import { frostSuite, type FrostScheme } from '../curves/ciphersuites.ts';

export interface FrostKeyShare {
  readonly scheme: FrostScheme;
  readonly self: PartyId;
  readonly threshold: number;
  /** Every party holding a share of this key, ascending. */
  readonly parties: readonly PartyId[];
  /** Group public key as the suite serialises it (SEC1 compressed on secp256k1). */
  readonly groupKey: Bytes;
  /** Feldman commitments to the joint polynomial; `commitments[0]` is the group key. */
  readonly commitments: readonly Bytes[];
  readonly verifyingShares: ReadonlyMap<PartyId, Bytes>;
  /** Secret: this party's signing share. */
  readonly signingShare: Bytes;
  /**
   * 32-byte chain code every party agreed on in the DKG (committed in round 1, opened in
   * round 2), for BIP32-style non-hardened derivation. Public. Absent on keys that did not
   * come out of our DKG (trusted-dealer test vectors, tweaked child shares).
   */
  readonly chainCode?: Bytes;
}

export function toNoble(share: FrostKeyShare): { public: FrostPublic; secret: FrostSecret } {
  const suite = frostSuite(share.scheme);
  return {
    public: {
      signers: { min: share.threshold, max: share.parties.length },
      commitments: [...share.commitments],
      verifyingShares: Object.fromEntries([...share.verifyingShares].map(([id, v]) => [suite.identifier(id), v])),
    },
    secret: { identifier: suite.identifier(share.self), signingShare: share.signingShare },
  };
}

/**
 * toNoble, with the public package built once per key share object (with 100 parties it is
 * 100 identifier conversions per signing session otherwise). noble never mutates it.
 */
const publicPackages = new WeakMap<FrostKeyShare, FrostPublic>();
export function nobleKeyPackage(share: FrostKeyShare): { public: FrostPublic; secret: FrostSecret } {
  let pub = publicPackages.get(share);
  if (!pub) {
    pub = toNoble(share).public;
    publicPackages.set(share, pub);
  }
  return { public: pub, secret: { identifier: frostSuite(share.scheme).identifier(share.self), signingShare: share.signingShare } };
}

export function checkThreshold(threshold: number, n: number): void {
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > n) {
    throw new ProtocolConfigError(`threshold must be an integer in [2, ${n}] for ${n} parties, got ${threshold}`);
  }
}

/** Overwrites the secret of a key share (its signing share) once it is no longer needed. */
export function zeroizeFrostKeyShare(share: FrostKeyShare): void {
  zeroize(share.signingShare);
}
