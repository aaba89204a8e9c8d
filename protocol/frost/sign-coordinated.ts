/**
 * FROST signing in the RFC 9591 coordinator model (section 5): one designated signer, the
 * aggregator, plays the RFC's Coordinator. Three message flights, O(t) messages:
 *
 *   1. every other signer sends its nonce commitments (D_i, E_i) to the aggregator, with the
 *      hash of its public inputs;
 *   2. the aggregator broadcasts the commitment list B, in signer order, with its inputs hash;
 *   3. every other signer checks that B holds its own commitments, signs over B and sends
 *      its share z_i to the aggregator, and is done.
 *
 * Inputs. The hash binds the protocol, the session id, the signer set, the (tweaked) group key,
 * the message and the caller's context (key id, epoch, derivation path). Signers given different
 * inputs would compute shares that fail at the aggregator and look like cheats; that is the
 * coordinator's doing, so a mismatch ends the session with `inputs_mismatch`, naming no signer,
 * before any share is computed (the aggregator checks flight 1, every signer flight 2).
 *
 * The aggregator aggregates once, verifies the signature with the ordinary single-signer
 * verifier, and only if that fails checks each share (RFC 9591 section 5.4) to name the culprit.
 *
 * Why no echo round. Each share is bound to the exact list it was computed over: the binding
 * factors are ρ_i = H1(PK ‖ H4(msg) ‖ H5(encode(B)) ‖ i), so the commitment list itself is
 * in the transcript of every share. FROST's unforgeability does not rest on signers agreeing
 * on B (the security proof lets the adversary pick B per signing query, RFC 9591 section 7,
 * "the Coordinator is trusted only for liveness"); what matters is that a signer only signs
 * over a B that contains its own, fresh, single-use commitments, which step 3 checks. There is
 * also nothing to equivocate: a signer sends its commitments to one party only, and there is
 * one list, the aggregator's. An aggregator that sends different lists to different signers
 * gets shares that do not aggregate, which only hurts itself (it could as well not output).
 * So blame stays sound: an honest aggregator sent every signer the same list it checks with,
 * and a share that fails against that list was computed wrongly by its signer.
 *
 * Non-aggregators output `{ kind: 'share-sent' }`; only the aggregator holds the signature.
 */
import type { NonceCommitments } from '@noble/curves/abstract/frost.js';
import { array, bytes, encodeCbor, struct, type Bytes } from '../core/codec.ts';
import { ProtocolAbort, ProtocolConfigError } from '../core/errors.ts';
import type { PartyId } from '../core/ids.ts';
import { round, type ProtocolStart, type Round, type Transition } from '../core/party.ts';
import { constantTimeEqual, hashTranscript, zeroize } from '../core/transcript.ts';
import { nobleKeyPackage, type FrostKeyShare } from '../threshold/keys.ts';
import { checkSigners, type FrostSignature } from './sign.ts';
import { frostSuite, nobleRng } from '../curves/ciphersuites.ts';

export const frostSignCoordinatedProtocol = (key: FrostKeyShare): string => `frost-sign-coord/${key.scheme}/v2`;

export type FrostSignOutcome = ({ readonly kind: 'signature' } & FrostSignature) | { readonly kind: 'share-sent'; readonly signers: readonly PartyId[] };

interface CommitmentsPayload {
  hiding: Bytes;
  binding: Bytes;
}
/** Flight 1: a signer's commitments and its inputs hash. */
interface Flight1 extends CommitmentsPayload {
  inputs: Bytes;
}
/** Flight 2: the commitment list and the aggregator's inputs hash. */
interface Flight2 {
  list: CommitmentsPayload[];
  inputs: Bytes;
}
interface SharePayload {
  share: Bytes;
}

/**
 * The aggregator's last step: the signature from every share (its own and `others`'), verified
 * with the ordinary single-signer verifier; when it does not verify, each share is checked (RFC
 * 9591 section 5.4) to name the culprits.
 */
export function aggregateOrBlame(
  key: FrostKeyShare,
  list: NonceCommitments[],
  message: Uint8Array,
  self: PartyId,
  ownShare: Uint8Array,
  others: ReadonlyMap<PartyId, { readonly share: Uint8Array }>,
): { signature: Uint8Array; publicKey: Uint8Array } {
  const suite = frostSuite(key.scheme);
  const pkg = nobleKeyPackage(key);
  const shares: Record<string, Uint8Array> = { [suite.identifier(self)]: ownShare };
  for (const [from, p] of others) shares[suite.identifier(from)] = p.share;
  const publicKey = suite.userPublicKey(key.groupKey);
  let signature: Uint8Array | undefined;
  try {
    signature = suite.frost.aggregate(pkg.public, list, message, shares);
  } catch {
    signature = undefined;
  }
  if (!signature || !suite.verify(signature, message, publicKey)) {
    const culprits = [...others].filter(([from, p]) => !suite.frost.verifyShare(pkg.public, list, message, suite.identifier(from), p.share)).map(([from]) => from);
    throw new ProtocolAbort(culprits.length ? 'invalid_signature_share' : 'invalid_signature', culprits, 'aggregate signature does not verify');
  }
  return { signature, publicKey };
}

/** A round that expects nothing and moves straight on: keeps wire round numbers aligned across roles. */
function passThrough<O>(number: number, next: () => Transition<O>): Round<O> {
  return round<O>({ number, senders: [], finish: next });
}

/** What every signer must agree on (see the module comment), as one 32-byte hash. */
function inputsHash(protocol: string, session: string, parties: readonly PartyId[], groupKey: Uint8Array, message: Uint8Array, context: Uint8Array): Bytes {
  return hashTranscript('mpc-signer/frost-sign-inputs/v1', protocol, session, parties.length, ...parties, groupKey, message, context) as Bytes;
}

const mismatch = (who: string) => new ProtocolAbort('inputs_mismatch', [], `${who} given other inputs (key, epoch, message, path or signer set) than this signer`);

/**
 * `context`: public inputs of the caller's beyond the protocol's own (a node passes key id,
 * epoch and derivation path); every signer must pass the same bytes.
 */
export function frostSignCoordinated(key: FrostKeyShare, message: Uint8Array, aggregator: PartyId, context: Uint8Array = new Uint8Array()): ProtocolStart<FrostSignOutcome> {
  return (ctx) => {
    checkSigners(key, ctx.parties);
    if (!ctx.parties.includes(aggregator)) throw new ProtocolConfigError(`aggregator ${aggregator} is not one of the signers`);
    const suite = frostSuite(key.scheme);
    const { frost } = suite;
    const pkg = nobleKeyPackage(key);
    const commitmentsCodec = struct<CommitmentsPayload>({ hiding: suite.point, binding: suite.point });
    const flight1Codec = struct<Flight1>({ hiding: suite.point, binding: suite.point, inputs: bytes(32) });
    const flight2Codec = struct<Flight2>({ list: array(commitmentsCodec, ctx.parties.length), inputs: bytes(32) });
    const shareCodec = struct<SharePayload>({ share: suite.scalar });
    const inputs = inputsHash(ctx.protocol, ctx.session, ctx.parties, key.groupKey, message, context);
    const { nonces, commitments: own } = frost.commit(pkg.secret, nobleRng(ctx.rng));
    const destroyNonces = () => zeroize(nonces.hiding, nonces.binding);
    const others = ctx.parties.filter((p) => p !== ctx.self);
    const asNoble = (list: readonly CommitmentsPayload[]): NonceCommitments[] =>
      list.map((c, i) => ({ identifier: suite.identifier(ctx.parties[i]!), hiding: c.hiding, binding: c.binding }));

    if (ctx.self !== aggregator) {
      // Flight 3: sign over the aggregator's list once it is shown to hold our own commitments.
      const signRound = round<FrostSignOutcome, Flight2>({
        number: 2,
        broadcast: flight2Codec,
        senders: [aggregator],
        destroy: destroyNonces,
        finish: ({ broadcasts }) => {
          const { list, inputs: theirs } = broadcasts.get(aggregator)!;
          if (!constantTimeEqual(theirs, inputs)) throw mismatch(`the aggregator ${aggregator} was`);
          const mine = list[ctx.parties.indexOf(ctx.self)]!;
          if (!constantTimeEqual(mine.hiding, own.hiding) || !constantTimeEqual(mine.binding, own.binding)) {
            throw new ProtocolAbort('invalid_message', [aggregator], 'the commitment list does not hold this signer\'s commitments');
          }
          // signShare consumes (zeroes) the nonces: a second call with them fails closed.
          const share = frost.signShare(pkg.secret, pkg.public, nonces, asNoble(list), message);
          const send = { direct: new Map([[aggregator, encodeCbor(shareCodec, { share: Uint8Array.from(share) })]]) };
          return { send, next: passThrough(3, () => ({ send: {}, output: { kind: 'share-sent', signers: ctx.parties } })) };
        },
      });
      const payload = encodeCbor(flight1Codec, { hiding: Uint8Array.from(own.hiding), binding: Uint8Array.from(own.binding), inputs });
      return { send: { direct: new Map([[aggregator, payload]]) }, next: passThrough(1, () => ({ send: {}, next: signRound })) };
    }

    let ownShare: Uint8Array | undefined;
    const aggregateRound = (list: NonceCommitments[]) =>
      round<FrostSignOutcome, never, SharePayload>({
        number: 3,
        direct: shareCodec,
        destroy: () => zeroize(ownShare),
        finish: ({ direct }) => {
          const { signature, publicKey } = aggregateOrBlame(key, list, message, ctx.self, ownShare!, direct);
          return { send: {}, output: { kind: 'signature', signature, publicKey, signers: ctx.parties } };
        },
      });

    // Flight 2: collect every signer's commitments, sign over the list ourselves, broadcast it.
    const collectRound = round<FrostSignOutcome, never, Flight1>({
      number: 1,
      direct: flight1Codec,
      senders: others,
      destroy: destroyNonces,
      finish: ({ direct }) => {
        const disagreeing = others.filter((p) => !constantTimeEqual(direct.get(p)!.inputs, inputs));
        if (disagreeing.length) throw mismatch(`signers ${disagreeing.join(', ')} were`);
        const list = ctx.parties.map((p) => {
          if (p === ctx.self) return { hiding: Uint8Array.from(own.hiding), binding: Uint8Array.from(own.binding) };
          const { hiding, binding } = direct.get(p)!;
          return { hiding, binding };
        }) as CommitmentsPayload[];
        const nobleList = asNoble(list);
        ownShare = frost.signShare(pkg.secret, pkg.public, nonces, nobleList, message);
        return { send: { broadcast: encodeCbor(flight2Codec, { list, inputs }) }, next: passThrough(2, () => ({ send: {}, next: aggregateRound(nobleList) })) };
      },
    });
    return { send: {}, next: collectRound };
  };
}
