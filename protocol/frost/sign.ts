/**
 * FROST signing (RFC 9591 section 5) among any t or more parties of a key.
 * Round 1 reliably broadcasts each signer's nonce commitments (echoed, so every signer
 * signs over the same commitment list); round 2 broadcasts signature shares. Every signer
 * aggregates, verifies the aggregate with the ordinary verifier, and only when that fails
 * checks each share to name the culprit.
 *
 * Use this when every signer must hold the signature. It costs every signer an aggregation
 * and a verification plus an echo round; `sign-coordinated.ts` (one aggregator, RFC 9591's
 * coordinator model) does the same with almost no overhead over bare createFROST.
 */
import type { NonceCommitments } from '@noble/curves/abstract/frost.js';
import { encodeCbor, struct, type Bytes } from '../core/codec.ts';
import { ProtocolAbort, ProtocolConfigError } from '../core/errors.ts';
import type { PartyId } from '../core/ids.ts';
import { round, type ProtocolStart } from '../core/party.ts';
import { zeroize } from '../core/transcript.ts';
import { toNoble, type FrostKeyShare } from '../threshold/keys.ts';
import { frostSuite, nobleRng } from '../curves/ciphersuites.ts';

export const frostSignProtocol = (key: FrostKeyShare): string => `frost-sign/${key.scheme}/v1`;

export interface FrostSignature {
  /** In the scheme's standard format (RFC 8032 / BIP340 64 bytes; RFC 9591 secp256k1 65 bytes). */
  readonly signature: Uint8Array;
  /** The key that verifies it, in the user-facing format. */
  readonly publicKey: Uint8Array;
  readonly signers: readonly PartyId[];
}

interface CommitmentsPayload {
  hiding: Bytes;
  binding: Bytes;
}
interface SharePayload {
  share: Bytes;
}

/** Checks that `signers` can sign with `key`; throws ProtocolConfigError otherwise. */
export function checkSigners(key: FrostKeyShare, signers: readonly PartyId[]): void {
  if (signers.length < key.threshold) {
    throw new ProtocolConfigError(`a ${key.threshold}-of-${key.parties.length} key needs at least ${key.threshold} signers, got ${signers.length}`);
  }
  for (const s of signers) if (!key.parties.includes(s)) throw new ProtocolConfigError(`party ${s} holds no share of this key`);
}

export function frostSign(key: FrostKeyShare, message: Uint8Array): ProtocolStart<FrostSignature> {
  return (ctx) => {
    checkSigners(key, ctx.parties);
    const suite = frostSuite(key.scheme);
    const { frost } = suite;
    const pkg = toNoble(key);
    const commitmentsCodec = struct<CommitmentsPayload>({ hiding: suite.point, binding: suite.point });
    const shareCodec = struct<SharePayload>({ share: suite.scalar });
    const { nonces, commitments: own } = frost.commit(pkg.secret, nobleRng(ctx.rng));
    const destroyNonces = () => zeroize(nonces.hiding, nonces.binding);

    const aggregate = (commitmentList: NonceCommitments[]) =>
      round<FrostSignature, SharePayload>({
        number: 2,
        broadcast: shareCodec,
        finish: ({ broadcasts }) => {
          const shares: Record<string, Uint8Array> = { [suite.identifier(ctx.self)]: ownShare! };
          for (const [from, p] of broadcasts) shares[suite.identifier(from)] = p.share;
          const publicKey = suite.userPublicKey(key.groupKey);
          let signature: Uint8Array | undefined;
          try {
            signature = frost.aggregate(pkg.public, commitmentList, message, shares);
          } catch {
            signature = undefined;
          }
          if (!signature || !suite.verify(signature, message, publicKey)) {
            const culprits = [...broadcasts]
              .filter(([from, p]) => !frost.verifyShare(pkg.public, commitmentList, message, suite.identifier(from), p.share))
              .map(([from]) => from);
            throw new ProtocolAbort(culprits.length ? 'invalid_signature_share' : 'invalid_signature', culprits, 'aggregate signature does not verify');
          }
          return { send: {}, output: { signature, publicKey, signers: ctx.parties } };
        },
      });

    let ownShare: Uint8Array | undefined;
    const shareRound = round<FrostSignature, CommitmentsPayload>({
      number: 1,
      broadcast: commitmentsCodec,
      reliable: true,
      destroy: destroyNonces,
      finish: ({ broadcasts }) => {
        const commitmentList: NonceCommitments[] = [own];
        for (const [from, c] of broadcasts) commitmentList.push({ identifier: suite.identifier(from), hiding: c.hiding, binding: c.binding });
        // signShare consumes (zeroes) the nonces: a second call with them fails closed.
        ownShare = frost.signShare(pkg.secret, pkg.public, nonces, commitmentList, message);
        return { send: { broadcast: encodeCbor(shareCodec, { share: Uint8Array.from(ownShare) }) }, next: aggregate(commitmentList) };
      },
    });

    return {
      send: { broadcast: encodeCbor(commitmentsCodec, { hiding: Uint8Array.from(own.hiding), binding: Uint8Array.from(own.binding) }) },
      next: shareRound,
    };
  };
}
