/**
 * DKLs23 key generation for `ecdsa-secp256k1`: the Feldman/Pedersen DKG with proofs of
 * knowledge and a committed chain code (protocol/frost/dkg.ts on the plain secp256k1 suite,
 * rounds 1–2), then the pairwise setup every signing session reuses (rounds 3–4):
 *
 *   round 3: to each peer j, as base-OT sender of the direction where this party is the
 *            extension receiver: A_ij with its proof of knowledge; and a commitment to this
 *            party's contribution to the pair's zero-sharing seed.
 *   round 4: to each peer j, as base-OT receiver with fresh choice bits Δ_ij (the extension
 *            sender's secret): B_1..B_κ; and the opening of the zero-seed contribution.
 *   finish:  both keys of every base OT the peer chose in; the pair's zero seed.
 */
import { bytes, encodeCbor, struct, type Bytes } from '../core/codec.ts';
import { andThen } from '../core/compose.ts';
import { ProtocolAbort } from '../core/errors.ts';
import { sessionIdBytes, type PartyId } from '../core/ids.ts';
import { round, type ProtocolStart, type SessionContext, type Transition } from '../core/party.ts';
import { constantTimeEqual, hashTranscript, zeroize } from '../core/transcript.ts';
import { frostDkg } from '../threshold/dkg.ts';
import type { FrostKeyShare } from '../threshold/keys.ts';
import { checkSenderHello, receiverChoose, senderHello, senderKeys, type BaseOtContext, type SenderSecret } from './base-ot.ts';
import { DKLS_SCHEME, type DklsKeyShare, type PairSetup } from './keys.ts';
import { KAPPA } from './ot-extension.ts';

export const dklsKeygenProtocol = `dkls23-keygen/${DKLS_SCHEME}/v3`;

interface HelloPayload {
  otA: Bytes;
  otProof: Bytes;
  zeroCommitment: Bytes;
}
interface ChoicePayload {
  otB: Bytes;
  zeroContribution: Bytes;
}
const helloCodec = struct<HelloPayload>({ otA: bytes(32), otProof: bytes(64), zeroCommitment: bytes(32) });
const choiceCodec = struct<ChoicePayload>({ otB: bytes(32 * KAPPA), zeroContribution: bytes(32) });

const zeroCommitment = (session: string, from: PartyId, to: PartyId, contribution: Uint8Array) =>
  hashTranscript('mpc/dkls23/zero-seed-commitment/v1', session, from, to, contribution);

/** The pair's zero-sharing seed: both contributions in ascending party order. */
const zeroSeed = (session: string, a: PartyId, ca: Uint8Array, b: PartyId, cb: Uint8Array) =>
  (a < b ? hashTranscript('mpc/dkls23/zero-seed/v1', session, a, ca, b, cb) : hashTranscript('mpc/dkls23/zero-seed/v1', session, b, cb, a, ca)) as Bytes;

export function dklsKeygen(params: { threshold: number }): ProtocolStart<DklsKeyShare> {
  return (ctx) => andThen(frostDkg({ scheme: 'frost-secp256k1', threshold: params.threshold })(ctx), (core) => pairwiseSetup(ctx, core));
}

/**
 * Rounds 3–4: base OTs in both directions and zero-sharing seeds with every other member of
 * `members` (default: the whole session; resharing passes the new committee). Every run makes
 * fresh setups, so refresh and resharing also retire all earlier OT state.
 */
export function pairwiseSetup(ctx: SessionContext, core: FrostKeyShare, members: readonly PartyId[] = ctx.parties): Transition<DklsKeyShare> {
  const peers = members.filter((p) => p !== ctx.self);
  const session = sessionIdBytes(ctx.session);
  /** Base OTs where `sender` is the OT sender (= the extension receiver). */
  const otCtx = (sender: PartyId, receiver: PartyId): BaseOtContext => ({ session, sender, receiver });
  const senderSecrets = new Map<PartyId, SenderSecret>();
  const contributions = new Map<PartyId, Uint8Array>();
  const hello = new Map<PartyId, Uint8Array>();
  for (const j of peers) {
    const { hello: h, secret } = senderHello(otCtx(ctx.self, j), ctx.rng);
    senderSecrets.set(j, secret);
    const contribution = Uint8Array.from(ctx.rng(32));
    contributions.set(j, contribution);
    hello.set(j, encodeCbor(helloCodec, { otA: h.a as Bytes, otProof: h.proof as Bytes, zeroCommitment: zeroCommitment(ctx.session, ctx.self, j, contribution) as Bytes }));
  }
  const destroyContributions = () => contributions.forEach((c) => zeroize(c));
  const destroySenderSecrets = () => senderSecrets.forEach((s) => zeroize(s.scalar));
  let handedOver = false;

  const finish = (deltas: ReadonlyMap<PartyId, { delta: Uint8Array; seeds: Uint8Array }>, commitments: ReadonlyMap<PartyId, Uint8Array>) =>
    round<DklsKeyShare, never, ChoicePayload>({
      number: 4,
      direct: choiceCodec,
      senders: peers,
      destroy: () => {
        destroyContributions();
        destroySenderSecrets();
        deltas.forEach((d) => zeroize(d.delta, d.seeds));
      },
      finish: ({ direct }) => {
        const badOpenings = peers.filter((j) => !constantTimeEqual(zeroCommitment(ctx.session, j, ctx.self, direct.get(j)!.zeroContribution), commitments.get(j)!));
        if (badOpenings.length) throw new ProtocolAbort('invalid_commitment_opening', badOpenings, 'zero-sharing seed contribution does not open its commitment');
        const pairs = new Map<PartyId, PairSetup>();
        const cheaters: PartyId[] = [];
        for (const j of peers) {
          const keys = senderKeys(otCtx(ctx.self, j), senderSecrets.get(j)!, direct.get(j)!.otB);
          if (!keys) {
            cheaters.push(j);
            continue;
          }
          const mine = deltas.get(j)!;
          pairs.set(j, {
            zeroSeed: zeroSeed(ctx.session, ctx.self, contributions.get(j)!, j, direct.get(j)!.zeroContribution),
            otSender: { delta: Uint8Array.from(mine.delta), seeds: Uint8Array.from(mine.seeds) },
            otReceiver: keys,
          });
        }
        if (cheaters.length) throw new ProtocolAbort('invalid_message', cheaters, 'base OT choice message rejected (an invalid element, the identity or A itself)');
        return { send: {}, output: { scheme: DKLS_SCHEME, core, pairs } };
      },
    });

  const choose = round<DklsKeyShare, never, HelloPayload>({
    number: 3,
    direct: helloCodec,
    senders: peers,
    // Party destroys a round when it is left, also on success: the contributions and the OT senders' keys then belong to round 4.
    destroy: () => {
      if (!handedOver) {
        destroyContributions();
        destroySenderSecrets();
      }
    },
    finish: ({ direct }) => {
      const bad = peers.filter((j) => !checkSenderHello(otCtx(j, ctx.self), { a: direct.get(j)!.otA, proof: direct.get(j)!.otProof }));
      if (bad.length) throw new ProtocolAbort('invalid_proof', bad, 'base OT sender key without a valid proof of knowledge');
      const deltas = new Map<PartyId, { delta: Uint8Array; seeds: Uint8Array }>();
      const send = new Map<PartyId, Uint8Array>();
      for (const j of peers) {
        const delta = Uint8Array.from(ctx.rng(KAPPA / 8));
        const { bs, seeds } = receiverChoose(otCtx(j, ctx.self), direct.get(j)!.otA, delta, ctx.rng);
        deltas.set(j, { delta, seeds });
        send.set(j, encodeCbor(choiceCodec, { otB: bs as Bytes, zeroContribution: contributions.get(j)! as Bytes }));
      }
      handedOver = true;
      return { send: { direct: send }, next: finish(deltas, new Map(peers.map((j) => [j, direct.get(j)!.zeroCommitment] as const))) };
    },
  });
  return { send: { direct: hello }, next: choose };
}
