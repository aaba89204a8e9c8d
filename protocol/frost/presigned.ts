/**
 * FROST signing with nonces committed ahead (RFC 9591 section 5.1, "commit" run before the
 * message is known): a signer keeps (d_i, e_i) and has published (D_i, E_i); when a message
 * comes, the commitment list B of the signer set is known already, so each signer computes its
 * share z_i at once and sends it to the aggregator. One message flight.
 *
 * Single use is the whole game: two shares from the same (d_i, e_i) over different lists or
 * messages give away the signing share. Whoever keeps them must make sure they are gone for good
 * before z_i leaves (the node deletes them durably first, node/store/presignatures.ts); the
 * noble `signShare` also zeroes the nonce bytes it is given.
 *
 * Why the shares carry an inputs hash. There is no flight in which the aggregator shows its
 * list (sign-coordinated.ts has one): every signer takes B from the coordinator's request. A
 * coordinator that gave signers different lists or messages would get shares that fail at the
 * aggregator and would have them blamed; so each share comes with the hash of everything its
 * signer used (protocol, session, signer set, key, message, context, B), and the aggregator
 * ends with `inputs_mismatch`, naming no signer, when one differs from its own.
 */
import type { NonceCommitments, Nonces } from '@noble/curves/abstract/frost.js';
import { bytes, decodeCbor, encodeCbor, struct, type Bytes } from '../core/codec.ts';
import { ProtocolAbort, ProtocolConfigError } from '../core/errors.ts';
import type { PartyId, Rng } from '../core/ids.ts';
import { round, type ProtocolStart, type Transition } from '../core/party.ts';
import { constantTimeEqual, hashTranscript, zeroize } from '../core/transcript.ts';
import { frostSuite, nobleRng } from '../curves/ciphersuites.ts';
import { nobleKeyPackage, type FrostKeyShare } from '../threshold/keys.ts';
import { aggregateOrBlame, type FrostSignOutcome } from './sign-coordinated.ts';
import { checkSigners } from './sign.ts';

export const frostPresignedSignProtocol = (key: FrostKeyShare): string => `frost-sign-presigned/${key.scheme}/v1`;

/** A signer's published nonce commitments (D_i, E_i), encoded points. */
export interface FrostCommitments {
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
}

/** One signer's nonces committed ahead: `nonces` are secret and single-use. */
export interface FrostPresignature {
  readonly nonces: Nonces;
  readonly commitments: FrostCommitments;
}

/** RFC 9591 `commit`, run ahead of any message. */
export function frostCommitAhead(key: FrostKeyShare, rng: Rng): FrostPresignature {
  const { frost } = frostSuite(key.scheme);
  const { nonces, commitments } = frost.commit(nobleKeyPackage(key).secret, nobleRng(rng));
  return { nonces, commitments: { hiding: commitments.hiding, binding: commitments.binding } };
}

interface StoredNonces {
  hidingNonce: Bytes;
  bindingNonce: Bytes;
  hiding: Bytes;
  binding: Bytes;
}
const storedCodec = struct<StoredNonces>({
  hidingNonce: bytes(32),
  bindingNonce: bytes(32),
  hiding: bytes({ min: 32, max: 33 }),
  binding: bytes({ min: 32, max: 33 }),
});

/** The bytes a node seals; zeroise them after sealing. */
export function encodeFrostPresignature(p: FrostPresignature): Uint8Array {
  return encodeCbor(storedCodec, {
    hidingNonce: p.nonces.hiding as Bytes,
    bindingNonce: p.nonces.binding as Bytes,
    hiding: p.commitments.hiding as Bytes,
    binding: p.commitments.binding as Bytes,
  });
}

export function decodeFrostPresignature(raw: Uint8Array): FrostPresignature {
  const s = decodeCbor(storedCodec, raw);
  return { nonces: { hiding: s.hidingNonce, binding: s.bindingNonce }, commitments: { hiding: s.hiding, binding: s.binding } };
}

const dropFrostPresignature = (p: FrostPresignature): void => zeroize(p.nonces.hiding, p.nonces.binding);

interface PresignedShare {
  share: Bytes;
  inputs: Bytes;
}

/**
 * Signs `message` with nonces committed ahead: `list` holds every signer's commitments in signer
 * order (`ctx.parties`), this signer's own among them. The nonces are consumed (zeroed) whatever
 * happens; `context` is the caller's public inputs, the same at every signer.
 */
export function frostSignPresigned(
  key: FrostKeyShare,
  message: Uint8Array,
  aggregator: PartyId,
  own: FrostPresignature,
  list: readonly FrostCommitments[],
  context: Uint8Array = new Uint8Array(),
): ProtocolStart<FrostSignOutcome> {
  return (ctx) => {
    try {
      checkSigners(key, ctx.parties);
      if (!ctx.parties.includes(aggregator)) throw new ProtocolConfigError(`aggregator ${aggregator} is not one of the signers`);
      if (list.length !== ctx.parties.length) throw new ProtocolConfigError(`${list.length} commitments for ${ctx.parties.length} signers`);
      const mine = list[ctx.parties.indexOf(ctx.self)]!;
      if (!constantTimeEqual(mine.hiding, own.commitments.hiding) || !constantTimeEqual(mine.binding, own.commitments.binding)) {
        throw new ProtocolConfigError('the commitment list does not hold this signer\'s presigned commitments');
      }
    } catch (e) {
      dropFrostPresignature(own);
      throw e;
    }
    const suite = frostSuite(key.scheme);
    const { frost } = suite;
    // Checked above to be the list's entry for this signer; sealed with the nonces by this signer.
    suite.rememberCommitted(own.nonces, own.commitments);
    const pkg = nobleKeyPackage(key);
    const nobleList: NonceCommitments[] = list.map((c, i) => ({ identifier: suite.identifier(ctx.parties[i]!), hiding: suite.point.decode(c.hiding, `list[${i}].hiding`), binding: suite.point.decode(c.binding, `list[${i}].binding`) }));
    const inputs = hashTranscript(
      'mpc-signer/frost-presigned-inputs/v1',
      ctx.protocol,
      ctx.session,
      ctx.parties.length,
      ...ctx.parties,
      key.groupKey,
      message,
      context,
      ...list.flatMap((c) => [c.hiding, c.binding]),
    ) as Bytes;
    const shareCodec = struct<PresignedShare>({ share: suite.scalar, inputs: bytes(32) });
    // signShare zeroes the nonces it consumed: a second call with them fails closed.
    const ownShare = frost.signShare(pkg.secret, pkg.public, own.nonces, nobleList, message);

    if (ctx.self !== aggregator) {
      const payload = encodeCbor(shareCodec, { share: Uint8Array.from(ownShare) as Bytes, inputs });
      zeroize(ownShare);
      const done = round<FrostSignOutcome>({ number: 1, senders: [], finish: () => ({ send: {}, output: { kind: 'share-sent', signers: ctx.parties } }) });
      return { send: { direct: new Map([[aggregator, payload]]) }, next: done };
    }
    return {
      send: {},
      next: round<FrostSignOutcome, never, PresignedShare>({
        number: 1,
        direct: shareCodec,
        destroy: () => zeroize(ownShare),
        finish: ({ direct }): Transition<FrostSignOutcome> => {
          const disagreeing = [...direct].filter(([, p]) => !constantTimeEqual(p.inputs, inputs)).map(([from]) => from);
          if (disagreeing.length) throw new ProtocolAbort('inputs_mismatch', [], `signers ${disagreeing.join(', ')} were given other inputs (message, commitments, session) than this signer`);
          const { signature, publicKey } = aggregateOrBlame(key, nobleList, message, ctx.self, ownShare, direct);
          return { send: {}, output: { kind: 'signature', signature, publicKey, signers: ctx.parties } };
        },
      }),
    };
  };
}
