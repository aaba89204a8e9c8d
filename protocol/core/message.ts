/**
 * The one message shape every protocol exchanges. A message is either a broadcast
 * (the same payload to every other party of the session) or a direct, point-to-point
 * message to one party; it always names its protocol, session, round and sender.
 * `payload` is the round's own strictly-decoded CBOR.
 */
import { array, bytes, decodeCbor, encodeCbor, party, struct, text, uint, type Codec } from './codec.ts';
import { DecodeError } from './errors.ts';
import { sessionId, sessionIdBytes, type PartyId, type SessionId } from './ids.ts';
import { MAX_MESSAGE_BYTES } from './codec.ts';

interface MessageHeader {
  /** Protocol name and version, e.g. `frost-dkg/v1`; a message for another protocol is refused. */
  readonly protocol: string;
  readonly session: SessionId;
  readonly round: number;
  readonly from: PartyId;
  readonly payload: Uint8Array;
}

export interface BroadcastMessage extends MessageHeader {
  readonly kind: 'broadcast';
  /**
   * The sender's signature over the payload digest, present on reliable-broadcast rounds
   * so that an equivocating sender can be proven guilty during the echo step.
   */
  readonly signature?: Uint8Array;
}

export interface DirectMessage extends MessageHeader {
  readonly kind: 'direct';
  readonly to: PartyId;
}

export type ProtocolMessage = BroadcastMessage | DirectMessage;

const MAX_ROUND = 255;
const MAX_SIGNATURE_BYTES = 4096; // fits ML-DSA-65 (3309 bytes) as well as Ed25519

const wire = struct<{
  kind: number;
  protocol: string;
  session: Uint8Array;
  round: number;
  from: PartyId;
  to: number;
  payload: Uint8Array;
  signature: Uint8Array[];
}>({
  kind: uint(1),
  protocol: text(64),
  session: bytes(32),
  round: uint(MAX_ROUND),
  from: party,
  to: uint(0xffff),
  payload: bytes({ min: 0, max: MAX_MESSAGE_BYTES }),
  signature: array(bytes({ min: 1, max: MAX_SIGNATURE_BYTES }), { min: 0, max: 1 }),
});

export const protocolMessageCodec: Codec<ProtocolMessage> = {
  encode(m) {
    return wire.encode({
      kind: m.kind === 'broadcast' ? 0 : 1,
      protocol: m.protocol,
      session: sessionIdBytes(m.session),
      round: m.round,
      from: m.from,
      to: m.kind === 'direct' ? m.to : 0,
      payload: m.payload,
      signature: m.kind === 'broadcast' && m.signature ? [m.signature] : [],
    });
  },
  decode(raw, path) {
    const w = wire.decode(raw, path);
    const header = { protocol: w.protocol, session: sessionId(w.session), round: w.round, from: w.from, payload: w.payload };
    if (w.kind === 0) {
      if (w.to !== 0) throw new DecodeError('malformed', `${path}: broadcast with a recipient`);
      const signature = w.signature[0];
      return signature ? { kind: 'broadcast', ...header, signature } : { kind: 'broadcast', ...header };
    }
    if (w.to === 0) throw new DecodeError('malformed', `${path}: direct message without a recipient`);
    if (w.signature.length) throw new DecodeError('unknown_field', `${path}: direct messages carry no signature`);
    if (w.to === w.from) throw new DecodeError('malformed', `${path}: message to self`);
    return { kind: 'direct', ...header, to: w.to as PartyId };
  },
};

export function encodeMessage(m: ProtocolMessage): Uint8Array {
  return encodeCbor(protocolMessageCodec, m);
}

export function decodeMessage(b: Uint8Array): ProtocolMessage {
  return decodeCbor(protocolMessageCodec, b, MAX_MESSAGE_BYTES + 8192);
}
