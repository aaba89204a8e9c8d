/**
 * The signed envelope every cluster message travels in. It binds the message to its sender,
 * recipient, session, key and round, and carries the sender's identity signature over all of
 * it, so a message cannot be replayed to another member, moved to another session or key, or
 * forged by anyone who does not hold the sender's identity key (the channel's authentication
 * is per hop; this one is end to end and can be shown to a third party).
 */
import { createHash } from 'node:crypto';
import { array, bytes, decodeCbor, encodeCbor, struct, text, uint, type Bytes } from '../protocol/core/codec.ts';
import { DecodeError } from '../protocol/core/errors.ts';
import { decodeClusterMessage, encodeClusterMessage, type ClusterMessage } from './control.ts';

export const MAX_ENVELOPE_BYTES = 6 * 1024 * 1024;
const DOMAIN = new TextEncoder().encode('mpc-signer/envelope/v1\0');

interface EnvelopeHeader {
  from: string;
  to: string;
  /** Empty for messages outside any session (heartbeats). */
  session: Bytes;
  keyId: string;
  round: number;
  body: Bytes;
}
interface Envelope extends EnvelopeHeader {
  signature: Bytes;
  /** ML-DSA-65 signature over the same input, from members whose manifest entry pins an ML-DSA key. */
  pqSignature: Bytes[];
}

const header = {
  from: text(64),
  to: text(64),
  session: bytes({ min: 0, max: 32 }),
  keyId: text(128),
  round: uint(255),
  body: bytes({ min: 1, max: MAX_ENVELOPE_BYTES }),
};
const headerCodec = struct<EnvelopeHeader>(header);
const envelopeCodec = struct<Envelope>({ ...header, signature: bytes({ min: 64, max: 64 }), pqSignature: array(bytes(3309), { min: 0, max: 1 }) });

const signingInput = (h: EnvelopeHeader) => {
  const encoded = encodeCbor(headerCodec, h);
  const out = new Uint8Array(DOMAIN.length + encoded.length);
  out.set(DOMAIN);
  out.set(encoded, DOMAIN.length);
  return out;
};

/** Binding fields of a message: what session, key and round it belongs to. */
function bindingOf(message: ClusterMessage): { session: Bytes; keyId: string; round: number } {
  switch (message.type) {
    case 'protocol':
      return { session: message.session, keyId: message.keyId, round: message.round };
    case 'keygen_done':
    case 'destroyed':
    case 'refresh_done':
    case 'repair_done':
    case 'reshare_done':
      return { session: message.session, keyId: message.keyId, round: 0 };
    case 'sign_done':
    case 'failed':
    case 'cancel':
      return { session: message.session, keyId: '', round: 0 };
    default:
      return { session: new Uint8Array(0) as Bytes, keyId: '', round: 0 };
  }
}

export function sealEnvelope(
  from: string,
  to: string,
  message: ClusterMessage,
  sign: (input: Uint8Array) => Uint8Array,
  pqSign?: (input: Uint8Array) => Uint8Array,
): Uint8Array {
  const h: EnvelopeHeader = { from, to, ...bindingOf(message), body: encodeClusterMessage(message) as Bytes };
  const input = signingInput(h);
  return encodeCbor(envelopeCodec, { ...h, signature: sign(input) as Bytes, pqSignature: pqSign ? [pqSign(input) as Bytes] : [] });
}

/**
 * Opens an envelope that arrived from `authenticatedFrom` (the channel's peer) for `self`.
 * Throws DecodeError when anything does not match; the caller drops the message.
 */
export function openEnvelope(
  raw: Uint8Array,
  authenticatedFrom: string,
  self: string,
  verify: (member: string, input: Uint8Array, signature: Uint8Array) => boolean,
  /** When the sender's manifest entry pins an ML-DSA-65 key, its signature is required too. */
  verifyPq?: (member: string, input: Uint8Array, signature: Uint8Array | undefined) => boolean,
): { message: ClusterMessage; digest: string } {
  if (raw.length > MAX_ENVELOPE_BYTES + 16 * 1024) throw new DecodeError('too_large', 'envelope too large');
  const e = decodeCbor(envelopeCodec, raw, MAX_ENVELOPE_BYTES + 16 * 1024);
  if (e.from !== authenticatedFrom) throw new DecodeError('malformed', `envelope claims ${e.from} but came from ${authenticatedFrom}`);
  if (e.to !== self) throw new DecodeError('malformed', `envelope for ${e.to}, this is ${self}`);
  const { signature, pqSignature, ...h } = e;
  const input = signingInput(h);
  if (!verify(e.from, input, signature)) throw new DecodeError('malformed', `bad envelope signature from ${e.from}`);
  if (verifyPq && !verifyPq(e.from, input, pqSignature[0])) throw new DecodeError('malformed', `missing or bad ML-DSA-65 envelope signature from ${e.from}`);
  const message = decodeClusterMessage(e.body);
  const expected = bindingOf(message);
  if (
    Buffer.compare(Buffer.from(expected.session), Buffer.from(e.session)) !== 0 ||
    expected.keyId !== e.keyId ||
    expected.round !== e.round
  ) {
    throw new DecodeError('malformed', 'envelope header does not match its message');
  }
  return { message, digest: createHash('sha256').update(signature).digest('hex') };
}

/**
 * The message inside an envelope, unchecked: for observers of traffic (the simulation's fault
 * injection, leak scans), never for acting on a message (`openEnvelope` does the checks).
 */
export function peekEnvelope(raw: Uint8Array): { from: string; to: string; body: Uint8Array; message: ClusterMessage } {
  const e = decodeCbor(envelopeCodec, raw, MAX_ENVELOPE_BYTES + 16 * 1024);
  return { from: e.from, to: e.to, body: e.body, message: decodeClusterMessage(e.body) };
}

/** Drops envelopes already seen (duplicates and replays), within a bounded memory. */
export class ReplayGuard {
  private readonly seen = new Set<string>();
  private readonly capacity: number;
  constructor(capacity = 200_000) {
    this.capacity = capacity;
  }
  /** True the first time a digest is offered. */
  fresh(digest: string): boolean {
    if (this.seen.has(digest)) return false;
    if (this.seen.size >= this.capacity) {
      // Forget the oldest half; sessions are single-use, so an old replay only meets a closed session.
      let drop = this.capacity / 2;
      for (const d of this.seen) {
        if (drop-- <= 0) break;
        this.seen.delete(d);
      }
    }
    this.seen.add(digest);
    return true;
  }
}
