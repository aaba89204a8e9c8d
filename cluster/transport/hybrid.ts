/**
 * The post-quantum layer inside every libp2p stream: a hybrid X25519 + ML-KEM-768 handshake
 * mutually authenticated with the members' pinned identity keys, then AES-256-GCM frames with
 * per-direction counters.
 *
 * libp2p's Noise already authenticates the peer and encrypts with X25519; this layer makes the
 * session keys depend on ML-KEM-768 as well, so traffic recorded today stays confidential
 * against a future quantum adversary as long as either X25519 or ML-KEM holds.
 *
 *   I → R  hello   = [v, initiator id, responder id, eX_I (32), ek_I (1184)]
 *   R → I  accept  = [eX_R (32), ct (1088), sig_R(transcript ‖ "responder")]
 *   I → R  confirm = [sig_I(transcript ‖ "initiator")]
 *   keys   = HKDF-SHA256(ikm = X25519(eX_I, eX_R) ‖ ML-KEM shared secret, salt = transcript hash)
 *
 * Ephemerals are fresh per stream and dropped after the handshake (forward secrecy). A hello
 * without an ML-KEM key, or an accept without a ciphertext, is refused: no downgrade.
 */
import { createHash, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { AEAD_TAG_BYTES, aeadOpen, aeadSeal } from '../aead.ts';
import { x25519 } from '@noble/curves/ed25519.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { array, bytes, decodeCbor, encodeCbor, struct, text, uint, type Bytes } from '../../protocol/core/codec.ts';
import { DecodeError } from '../../protocol/core/errors.ts';

export const HYBRID_GROUP = 'X25519MLKEM768';
const VERSION = 1;
const DOMAIN = 'mpc-signer/hybrid-channel/v1';
export const MLKEM768_ENCAPSULATION_KEY_BYTES = 1184;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;

export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
}

export interface HandshakeIdentity {
  readonly self: string;
  readonly sign: (message: Uint8Array) => Uint8Array;
  /** Verifies a member's signature with its manifest key; false for strangers. */
  readonly verify: (member: string, message: Uint8Array, signature: Uint8Array) => boolean;
}

interface Hello {
  version: number;
  initiator: string;
  responder: string;
  x25519: Bytes;
  /** Empty for a classical-only peer, which is refused. */
  mlkem: Bytes[];
}
interface Accept {
  x25519: Bytes;
  mlkem: Bytes[];
  signature: Bytes;
}
interface Confirm {
  signature: Bytes;
}

const helloCodec = struct<Hello>({
  version: uint(255),
  initiator: text(64),
  responder: text(64),
  x25519: bytes(32),
  mlkem: array(bytes(MLKEM768_ENCAPSULATION_KEY_BYTES), { min: 0, max: 1 }),
});
const acceptCodec = struct<Accept>({ x25519: bytes(32), mlkem: array(bytes(MLKEM768_CIPHERTEXT_BYTES), { min: 0, max: 1 }), signature: bytes({ min: 64, max: 8192 }) });
const confirmCodec = struct<Confirm>({ signature: bytes({ min: 64, max: 8192 }) });

/** What was negotiated, for logs and for the wire test. */
export interface HandshakeInfo {
  readonly group: typeof HYBRID_GROUP;
  readonly peer: string;
  readonly role: 'initiator' | 'responder';
  readonly encapsulationKeyBytes: number;
  readonly ciphertextBytes: number;
}

export interface ChannelKeys {
  readonly send: FrameSealer;
  readonly receive: FrameOpener;
  readonly info: HandshakeInfo;
}

/** Options for tests that play a misbehaving peer. */
export interface HandshakeTestHooks {
  /** Send a hello without ML-KEM (a classical-only peer). */
  readonly classicalOnly?: boolean;
  /** Append this many bytes to the hello (a peer that tries to make the responder buffer a huge handshake). */
  readonly helloPadding?: number;
  /** Confirm with the responder's own signature from its accept (a reflection, no proof of the initiator's key). */
  readonly reflectAcceptSignature?: boolean;
}

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(lengthPrefixed(p));
  return new Uint8Array(h.digest());
};
const lengthPrefixed = (b: Uint8Array) => {
  const out = new Uint8Array(4 + b.length);
  new DataView(out.buffer).setUint32(0, b.length);
  out.set(b, 4);
  return out;
};
const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * X25519(secret, peer). A low-order peer key gives the all-zero shared secret, which would make
 * the classical half of the key contribute nothing: refused (RFC 7748 §6.1's check).
 */
export function x25519Shared(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secret, peerPublic); // noble refuses an all-zero result itself
  } catch (e) {
    throw new HandshakeError(`X25519 peer key refused: ${(e as Error).message}`);
  }
  if (shared.every((b) => b === 0)) throw new HandshakeError('X25519 peer key of low order (all-zero shared secret)');
  return shared;
}

/** ML-KEM-768 encapsulation to a peer's key, which must pass FIPS 203's modulus check; `randomness` only for known answers. */
export function mlkemEncapsulate(encapsulationKey: Uint8Array, randomness?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  return ml_kem768.encapsulate(encapsulationKey, randomness);
}

/** HKDF-SHA256 (RFC 5869), as the key schedule uses it. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}

/** The transcript hash both sides sign and salt the key schedule with (exported for its known-answer test). */
export function transcriptHash(hello: Uint8Array, acceptCore: Uint8Array): Uint8Array {
  return sha256(utf8(DOMAIN), hello, acceptCore);
}

/**
 * The key schedule: HKDF-SHA256 over X25519's and ML-KEM's shared secrets (in that order), salted
 * with the transcript hash, one 32-byte AES key per direction. Exported for its known-answer test.
 */
export function channelKeySchedule(sharedX: Uint8Array, sharedK: Uint8Array, th: Uint8Array): { initiatorToResponder: Uint8Array; responderToInitiator: Uint8Array } {
  const ikm = Buffer.concat([sharedX, sharedK]);
  const key = (label: string) => hkdfSha256(ikm, th, `${DOMAIN} ${label}`, 32);
  try {
    return { initiatorToResponder: key('initiator->responder'), responderToInitiator: key('responder->initiator') };
  } finally {
    ikm.fill(0);
  }
}

function deriveKeys(role: 'initiator' | 'responder', sharedX: Uint8Array, sharedK: Uint8Array, th: Uint8Array, info: HandshakeInfo): ChannelKeys {
  const { initiatorToResponder: i2r, responderToInitiator: r2i } = channelKeySchedule(sharedX, sharedK, th);
  return role === 'initiator' ? { send: new FrameSealer(i2r), receive: new FrameOpener(r2i), info } : { send: new FrameSealer(r2i), receive: new FrameOpener(i2r), info };
}

/** Initiator side, step 1. */
export function initiate(id: HandshakeIdentity, responder: string, hooks: HandshakeTestHooks = {}) {
  const xSecret = x25519.utils.randomSecretKey();
  const kem = ml_kem768.keygen();
  const hello = encodeCbor(helloCodec, {
    version: VERSION,
    initiator: id.self,
    responder,
    x25519: x25519.getPublicKey(xSecret) as Bytes,
    mlkem: hooks.classicalOnly ? [] : [kem.publicKey as Bytes],
  });
  return {
    hello: hooks.helloPadding ? new Uint8Array(Buffer.concat([hello, new Uint8Array(hooks.helloPadding)])) : hello,
    /** Step 3: checks the responder's accept and returns the confirm message and the keys. */
    finish(acceptRaw: Uint8Array): { confirm: Uint8Array; keys: ChannelKeys } {
      try {
        const accept = decodeCbor(acceptCodec, acceptRaw);
        const ct = accept.mlkem[0];
        if (!ct) throw new HandshakeError(`${responder} offered no ML-KEM ciphertext: classical-only peers are refused`);
        const acceptCore = encodeCbor(struct({ x25519: bytes(32), mlkem: array(bytes(MLKEM768_CIPHERTEXT_BYTES), { min: 1, max: 1 }) }), { x25519: accept.x25519, mlkem: [ct] });
        const th = transcriptHash(hello, acceptCore);
        if (!id.verify(responder, sha256(th, utf8('responder')), accept.signature)) throw new HandshakeError(`${responder} failed to prove its identity`);
        const sharedX = x25519Shared(xSecret, accept.x25519);
        const sharedK = ml_kem768.decapsulate(ct, kem.secretKey);
        const confirm = encodeCbor(confirmCodec, { signature: hooks.reflectAcceptSignature ? accept.signature : (id.sign(sha256(th, utf8('initiator'))) as Bytes) });
        const info: HandshakeInfo = { group: HYBRID_GROUP, peer: responder, role: 'initiator', encapsulationKeyBytes: kem.publicKey.length, ciphertextBytes: ct.length };
        return { confirm, keys: deriveKeys('initiator', sharedX, sharedK, th, info) };
      } catch (e) {
        throw e instanceof HandshakeError ? e : new HandshakeError(`bad accept from ${responder}: ${(e as Error).message}`);
      } finally {
        xSecret.fill(0);
        kem.secretKey.fill(0);
      }
    },
  };
}

/**
 * Responder side: checks the hello (who it claims to be must be who libp2p authenticated),
 * answers, and returns a function that checks the initiator's confirm and yields the keys.
 */
export function respond(id: HandshakeIdentity, authenticatedPeer: string, helloRaw: Uint8Array) {
  let hello: Hello;
  try {
    hello = decodeCbor(helloCodec, helloRaw);
  } catch (e) {
    throw new HandshakeError(`bad hello from ${authenticatedPeer}: ${(e as DecodeError).message}`);
  }
  if (hello.version !== VERSION) throw new HandshakeError(`${authenticatedPeer} speaks channel version ${hello.version}, expected ${VERSION}`);
  if (hello.initiator !== authenticatedPeer) throw new HandshakeError(`hello claims ${hello.initiator} but the connection is from ${authenticatedPeer}`);
  if (hello.responder !== id.self) throw new HandshakeError(`hello for ${hello.responder}, this is ${id.self}`);
  const ek = hello.mlkem[0];
  if (!ek) throw new HandshakeError(`${authenticatedPeer} offered no ML-KEM key: classical-only peers are refused`);
  const xSecret = x25519.utils.randomSecretKey();
  let encapsulated: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  let sharedX: Uint8Array;
  try {
    encapsulated = mlkemEncapsulate(ek);
    sharedX = x25519Shared(xSecret, hello.x25519);
  } catch (e) {
    throw new HandshakeError(`bad key material from ${authenticatedPeer}: ${(e as Error).message}`);
  }
  const xPublic = x25519.getPublicKey(xSecret) as Bytes;
  xSecret.fill(0);
  const acceptCore = encodeCbor(struct({ x25519: bytes(32), mlkem: array(bytes(MLKEM768_CIPHERTEXT_BYTES), { min: 1, max: 1 }) }), { x25519: xPublic, mlkem: [encapsulated.cipherText as Bytes] });
  const th = transcriptHash(helloRaw, acceptCore);
  const accept = encodeCbor(acceptCodec, { x25519: xPublic, mlkem: [encapsulated.cipherText as Bytes], signature: id.sign(sha256(th, utf8('responder'))) as Bytes });
  return {
    accept,
    finish(confirmRaw: Uint8Array): ChannelKeys {
      try {
        const confirm = decodeCbor(confirmCodec, confirmRaw);
        if (!id.verify(authenticatedPeer, sha256(th, utf8('initiator')), confirm.signature)) throw new HandshakeError(`${authenticatedPeer} failed to prove its identity`);
        const info: HandshakeInfo = { group: HYBRID_GROUP, peer: authenticatedPeer, role: 'responder', encapsulationKeyBytes: ek.length, ciphertextBytes: encapsulated.cipherText.length };
        return deriveKeys('responder', sharedX, encapsulated.sharedSecret, th, info);
      } catch (e) {
        throw e instanceof HandshakeError ? e : new HandshakeError(`bad confirm from ${authenticatedPeer}: ${(e as Error).message}`);
      } finally {
        sharedX.fill(0);
        encapsulated.sharedSecret.fill(0);
      }
    },
  };
}

const nonceFor = (counter: bigint) => {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(counter, 4);
  return nonce;
};

/** The channel key as an OpenSSL secret key (imported once, not per frame); the bytes are wiped. */
function channelKey(key: Uint8Array): KeyObject {
  const secret = createSecretKey(key);
  key.fill(0);
  return secret;
}

/** AES-256-GCM sealing with a strictly increasing counter as nonce. */
export class FrameSealer {
  private readonly key: KeyObject;
  private counter = 0n;
  constructor(key: Uint8Array) {
    this.key = channelKey(key);
  }
  seal(plaintext: Uint8Array): Uint8Array {
    return aeadSeal(this.key, nonceFor(this.counter++), plaintext);
  }
}

/** Opens frames in order; a replayed, reordered, dropped or forged frame fails. */
export class FrameOpener {
  private readonly key: KeyObject;
  private counter = 0n;
  constructor(key: Uint8Array) {
    this.key = channelKey(key);
  }
  open(frame: Uint8Array): Uint8Array {
    if (frame.length < AEAD_TAG_BYTES) throw new HandshakeError('frame too short');
    const out = aeadOpen(this.key, nonceFor(this.counter), frame);
    this.counter++;
    return out;
  }
}
