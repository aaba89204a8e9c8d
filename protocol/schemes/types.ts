/**
 * What the rest of the system may know about a signature scheme, in one shape: every
 * scheme-specific fact outside the protocol state machines (curve, message rule, key
 * encodings, independent verifier, recovery id, and the protocol adapter the node runs)
 * lives in the scheme's module under `protocol/schemes/`, and everything else looks it up
 * in the registry (`index.ts`) instead of testing scheme names.
 */
import type { ProtocolAbort } from '../core/errors.ts';
import type { PartyId } from '../core/ids.ts';
import type { ProtocolStart } from '../core/party.ts';
import type { DerivationCurve } from '../derive.ts';
import type { OtPairGuard } from '../dkls23/sign.ts';
import type { FrostCommitments } from '../frost/presigned.ts';
import type { Addresses, BitcoinNetwork } from './addresses.ts';
import type { MessageHash } from './hashing.ts';

/** What a signer ends a session with: the signature, or nothing when another signer aggregates. */
export type SchemeSignature =
  | { readonly signature: Uint8Array; /** ECDSA recovery id; 0 for the Schnorr schemes. */ readonly recoveryId: number }
  | undefined;

export interface SignOptions {
  /** Public inputs beyond the protocol's own (key id, epoch, path) that every signer must share. */
  readonly context: Uint8Array;
  /** For schemes with pairwise setups: the key's shared retirement of cheating peers. */
  readonly guard?: OtPairGuard;
}

/**
 * How a scheme signs with work done ahead of the message (node/operations/presign.ts). The secret
 * part travels as opaque bytes between the protocol and the node's sealed store; the adapter
 * decodes it, and the bytes given to `sign` are consumed (zeroised) whatever happens.
 *
 * - `interactive` (DKLs23): the signers of one set run a session ahead; each ends with its parts
 *   of one or more presignatures for exactly that set and key.
 * - `local` (FROST): each signer makes nonces alone and publishes their commitments; a signing
 *   session gets every signer's commitments in its request.
 */
export type PresignSupport<S> =
  | {
      readonly kind: 'interactive';
      /** The most presignatures one session makes (several run in lockstep, protocol/core/lockstep.ts). */
      readonly maxPerSession: number;
      /** The protocol of a session that makes `count` presignatures. */
      protocol(count: number): string;
      /** Each signer's parts of `count` presignatures, in order. */
      start(share: S, count: number, opts: SignOptions): ProtocolStart<Uint8Array[]>;
      readonly signProtocol: string;
      sign(share: S, message: Uint8Array, presignature: Uint8Array, opts: SignOptions): ProtocolStart<SchemeSignature>;
    }
  | {
      readonly kind: 'local';
      make(share: S, rng: (n: number) => Uint8Array): { readonly secret: Uint8Array; readonly commitments: FrostCommitments };
      signProtocol(share: S): string;
      sign(share: S, message: Uint8Array, presignature: Uint8Array, list: readonly FrostCommitments[], opts: SignOptions): ProtocolStart<SchemeSignature>;
    };

/**
 * How a node runs a scheme's protocols and (de)serialises its key share for the sealed store.
 * The node runtime is written against this interface only, so FROST and DKLs23 plug in the same way.
 */
export interface SchemeAdapter<S> {
  readonly dkgProtocol: string;
  dkg(threshold: number): ProtocolStart<S>;
  signProtocol(share: S): string;
  /** Signs under the share's group key (tweak it first with `tweak` for a derived child). */
  sign(share: S, message: Uint8Array, opts: SignOptions): ProtocolStart<SchemeSignature>;
  /** Signing with work done ahead of the message (presignatures). */
  readonly presign: PresignSupport<S>;
  /** The share of the child key groupKey + tweak·G (a new object; wipe it as well as the parent). */
  tweak(share: S, tweak: Uint8Array): S;
  /** BIP341's tweak of the x-only key: lift_x(x(groupKey)) + tweak·G (a new object); Taproot schemes only. */
  tweakXOnly?(share: S, tweak: Uint8Array): S;
  /** Zeroises the secret bytes of a decoded share; the runtime calls it when a session ends. */
  wipe(share: S): void;
  /** The full group point (SEC1 compressed on secp256k1): what derivation starts from. */
  groupKey(share: S): Uint8Array;
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

/** Adapters hide the share type; the runtime only passes shares back to their own adapter. */
export type AnySchemeAdapter = SchemeAdapter<unknown>;

/** What a scheme signs: exactly `bytes` (a digest, or BIP340's 32-byte message), or a message of bounded length. */
export type MessageRule =
  | { readonly kind: 'fixed'; readonly bytes: number; readonly noun: 'digest' | 'message' }
  | { readonly kind: 'bounded'; readonly maxBytes: number };

export interface SchemeDefinition<Name extends string = string> {
  readonly name: Name;
  /** The curve its keys live on, which non-hardened derivation runs on (protocol/derive.ts). */
  readonly curve: DerivationCurve;
  readonly message: MessageRule;
  /** The user-facing public key of a full group point (BIP340: x-only; others: the point itself). */
  userKey(groupKey: Uint8Array): Uint8Array;
  /** The BIP32 extended public key of a root, for schemes whose wallets use one (`tpub` on test networks). */
  xpub?(groupKey: Uint8Array, chainCode: Uint8Array, network: BitcoinNetwork): string;
  /** The addresses wallets show for a user-facing key (BIP340: the internal key; its P2TR is the BIP86 output's). */
  addresses(userKey: Uint8Array, network: BitcoinNetwork): Addresses;
  /** The hashes the nodes may apply to a preimage to get what this scheme signs (empty: it signs the message itself). */
  readonly hashes: readonly MessageHash[];
  /** Whether `sign` takes a Taproot spend (BIP86 or BIP341 tweak of the key after derivation). */
  readonly taproot: boolean;
  /** Whether signatures come with a recovery id (`ecrecover`). */
  readonly recoveryId: boolean;
  /** Other encodings of a signature that wallets want beside the raw bytes (ECDSA: r, s, DER). */
  signatureForms?(signature: Uint8Array): Readonly<Record<string, string>>;
  /**
   * Verification by code that did not produce the signature (OpenSSL or noble), so a protocol
   * bug cannot vouch for itself. `recoveryId`, when given, must recover `publicKey` too.
   */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, recoveryId?: number): boolean;
  readonly adapter: AnySchemeAdapter;
}

/** Why a message cannot be signed under `rule` (undefined: it can). */
export function messageProblem(name: string, rule: MessageRule, message: Uint8Array): string | undefined {
  if (rule.kind === 'bounded') return message.length > rule.maxBytes ? `${name} signs a message of at most ${rule.maxBytes} bytes; got ${message.length}` : undefined;
  return message.length === rule.bytes ? undefined : `${name} signs a ${rule.bytes}-byte ${rule.noun}; got ${message.length} bytes`;
}
