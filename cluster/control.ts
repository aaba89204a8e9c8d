/**
 * The control plane between the coordinator and the nodes, and the protocol-message relay
 * between nodes. Every message is a tagged record with a strict codec; requests that make a
 * node use a key share (`keygen`, `sign`) are signed by the coordinator's identity key over
 * their exact encoding, so a node releases a share only for what the coordinator asked.
 */
import { array, bytes, decodeCbor, encodeCbor, party, struct, text, uint, type Bytes, type CborValue, type Codec } from '../protocol/core/codec.ts';
import { DecodeError } from '../protocol/core/errors.ts';
import type { PartyId } from '../protocol/core/ids.ts';
import { isMessageHash, isScheme, MAX_SIGN_MESSAGE_BYTES, type MessageHash, type Scheme, type TaprootSpend } from '../protocol/schemes/index.ts';
import { hashTranscript } from '../protocol/core/transcript.ts';
import { MAX_PATH_CHARS } from '../protocol/derive.ts';

const MAX_PARTIES = 1024;
/** The longest message any scheme signs (protocol/schemes): what a sign request may carry. */
export { MAX_SIGN_MESSAGE_BYTES };

/**
 * What a key's committee may never go below or outside of, fixed when the key is created and kept
 * by every holder with its share (SECURITY.md, "custody"): every dealer of a resharing and every
 * helper of a repair checks it, so a coordinator with t−1 nodes cannot move a key to a committee
 * it controls.
 */
export interface Custody {
  /** No resharing may set a lower threshold. */
  readonly minThreshold: number;
  /** No resharing may leave fewer holders. */
  readonly minParties: number;
  /** The only nodes that may ever hold a share (a subset of the cluster manifest at creation). */
  readonly members: readonly PartyId[];
}

export interface KeygenRequest {
  readonly session: Bytes;
  readonly keyId: string;
  readonly scheme: Scheme;
  readonly threshold: number;
  readonly parties: readonly PartyId[];
  readonly custody: Custody;
  /** The owner's label ('' none): policy rules may select keys by it, so the nodes keep it. */
  readonly label: string;
}

/** Transactions a node decodes itself (cluster/policy/chains): it signs what it read, and checks it against the policy. */
export type TransactionFormat = 'ethereum' | 'psbt' | 'solana';
export const TRANSACTION_FORMATS: readonly TransactionFormat[] = ['ethereum', 'psbt', 'solana'];

export interface SignRequest {
  readonly session: Bytes;
  readonly keyId: string;
  readonly scheme: Scheme;
  /** What is signed, or with `hash` its preimage (each node hashes it itself). */
  readonly message: Bytes;
  /** Empty string when `message` is signed as it is. */
  readonly hash: '' | MessageHash;
  /** Empty string when signing with the root key. */
  readonly derivationPath: string;
  /** BIP340 only: [] plain BIP340; [merkle root] a Taproot key-path spend (an empty root: BIP86). */
  readonly taproot: readonly Bytes[];
  readonly signers: readonly PartyId[];
  /** The key's confirmed epoch: a node holding it only staged confirms it first. */
  readonly epoch: number;
  /** '' when `message` is a digest or preimage; else the transaction format `message` is in. */
  readonly transaction: '' | TransactionFormat;
  /** The PSBT input to sign (0 otherwise). */
  readonly input: number;
  /** What the client expects the transaction's digest to be (empty: no claim); a node refuses a mismatch. */
  readonly expectedDigest: Bytes;
  /** The request's unique id, and the deadline (unix seconds, 0 none) its approvals carry. */
  readonly requestId: string;
  readonly deadline: number;
  readonly approvals: readonly { readonly approver: string; readonly signature: Bytes }[];
  /** The policy version every signer must hold: signers under different policies never combine. */
  readonly policyHash: Bytes;
  /**
   * [] for a full signing session; [one] to sign with a presignature every signer holds
   * (node/operations/presign.ts): the presigning session and index that name it, and for FROST
   * every signer's commitments in signer order (DKLs23: []).
   */
  readonly presignature: readonly PresignatureRef[];
}

export interface PresignatureRef {
  readonly session: Bytes;
  readonly index: number;
  readonly commitments: readonly NonceCommitmentsWire[];
}

/** A signer's FROST nonce commitments (D_i, E_i), encoded points. */
export interface NonceCommitmentsWire {
  readonly hiding: Bytes;
  readonly binding: Bytes;
}

/**
 * Make presignatures of a key for exactly `signers`, under the signing key that `derivationPath`
 * and `taproot` select (presignatures never serve another): DKLs23 runs one presigning session
 * (count 1); FROST signers each commit `count` nonce pairs on their own.
 */
export interface PresignRequest {
  readonly session: Bytes;
  readonly keyId: string;
  readonly scheme: Scheme;
  readonly epoch: number;
  readonly signers: readonly PartyId[];
  readonly derivationPath: string;
  readonly taproot: readonly Bytes[];
  readonly count: number;
}

/** The most presignatures one request may ask a node for. */
export const MAX_PRESIGN_BATCH = 64;

/** The sign request's optional parts, unset: a plain digest, no transaction, no approvals, no policy (version 0). */
export const SIGN_REQUEST_DEFAULTS = {
  hash: '',
  derivationPath: '',
  taproot: [],
  transaction: '',
  input: 0,
  expectedDigest: new Uint8Array(0) as Bytes,
  requestId: '',
  deadline: 0,
  approvals: [],
  policyHash: new Uint8Array(32) as Bytes,
  presignature: [],
} as const satisfies Partial<SignRequest>;

/** A Taproot spend as a sign request carries it, and back (`[]`: none; `[empty]`: BIP86). */
export const taprootField = (spend: TaprootSpend | undefined): Bytes[] => (spend ? [(spend.merkleRoot ?? new Uint8Array()) as Bytes] : []);
export function taprootSpendOf(field: readonly Bytes[]): TaprootSpend | undefined {
  const root = field[0];
  return root === undefined ? undefined : root.length ? { merkleRoot: root } : {};
}

/** Refresh a key's shares into `epoch` (staged beside the current epoch until confirmed). */
export interface RefreshRequest {
  readonly session: Bytes;
  readonly keyId: string;
  readonly epoch: number;
  readonly parties: readonly PartyId[];
}

/** Make `epoch` current and erase older ones (sent once every holder staged it). */
export interface ConfirmEpochRequest {
  readonly session: Bytes;
  readonly keyId: string;
  readonly epoch: number;
}

/** Rebuild node `lost`'s share of a key with the help of `helpers` (t holders). */
export interface RepairRequest {
  readonly session: Bytes;
  readonly keyId: string;
  readonly scheme: Scheme;
  readonly epoch: number;
  readonly lost: PartyId;
  readonly helpers: readonly PartyId[];
  /** The key's custody; helpers refuse unless it is the one they keep, the lost node adopts it. */
  readonly custody: Custody;
}

/** Move a key to `newParties` with `newThreshold`; `dealers` are t old holders. */
export interface ReshareRequest {
  readonly session: Bytes;
  readonly keyId: string;
  readonly scheme: Scheme;
  readonly epoch: number;
  readonly dealers: readonly PartyId[];
  readonly newParties: readonly PartyId[];
  readonly newThreshold: number;
  /** The key's custody; dealers refuse unless it is the one they keep, new holders adopt it. */
  readonly custody: Custody;
}

export interface DestroyRequest {
  readonly session: Bytes;
  readonly keyId: string;
}

/** What the coordinator sends a node. */
export type CoordinatorMessage =
  | { readonly type: 'keygen'; readonly request: Bytes }
  | { readonly type: 'sign'; readonly request: Bytes }
  | { readonly type: 'presign'; readonly request: Bytes }
  | { readonly type: 'destroy'; readonly request: Bytes }
  | { readonly type: 'refresh'; readonly request: Bytes }
  | { readonly type: 'confirm_epoch'; readonly request: Bytes }
  | { readonly type: 'repair'; readonly request: Bytes }
  | { readonly type: 'reshare'; readonly request: Bytes }
  | { readonly type: 'cancel'; readonly session: Bytes }
  /**
   * Heartbeat. The nonce is unique across coordinator runs (a random prefix per start and a
   * counter), so no ping is ever byte-identical to one a node's replay guard already holds.
   */
  | { readonly type: 'ping'; readonly nonce: Bytes }
  /**
   * A policy version for the nodes to apply. Not a coordinator request: what makes a node take it
   * is `threshold` administrators' signatures (cluster/policy/administrators.ts), which the
   * coordinator cannot make. The nonce makes every sending a new message (the link drops
   * byte-identical ones as replays), so a node that missed one can be sent it again.
   */
  | { readonly type: 'policy'; readonly nonce: Bytes; readonly document: Bytes; readonly signatures: readonly { readonly admin: string; readonly signature: Bytes; readonly mldsaSignature: Bytes }[] };

/** What a node sends the coordinator. */
export type NodeReport =
  | { readonly type: 'keygen_done'; readonly session: Bytes; readonly keyId: string; readonly groupKey: Bytes; readonly chainCode: Bytes }
  | { readonly type: 'sign_done'; readonly session: Bytes; readonly signature: Bytes; readonly recoveryId: number }
  /** Presignatures stored; FROST signers list their commitments (index order), DKLs23 signers none. */
  | { readonly type: 'presign_done'; readonly session: Bytes; readonly keyId: string; readonly commitments: readonly NonceCommitmentsWire[] }
  /**
   * `code` is what callers may see (a protocol abort reason such as `consistency_check_failed`,
   * or a refusal class: `refused`, `session_reused`, `malformed_request`, `cancelled`, `timeout`,
   * `local_failure`); `reason` is free text for the coordinator's log only.
   */
  | { readonly type: 'failed'; readonly session: Bytes; readonly code: string; readonly reason: string; readonly culprits: readonly PartyId[] }
  | { readonly type: 'destroyed'; readonly session: Bytes; readonly keyId: string }
  | { readonly type: 'repair_done'; readonly session: Bytes; readonly keyId: string }
  | { readonly type: 'reshare_done'; readonly session: Bytes; readonly keyId: string; readonly epoch: number; readonly groupKey: Bytes; readonly commitmentsDigest: Bytes }
  | { readonly type: 'refresh_done'; readonly session: Bytes; readonly keyId: string; readonly epoch: number; readonly groupKey: Bytes }
  | { readonly type: 'pong'; readonly nonce: Bytes }
  /** The policy a node enforces after a `policy` message; `error` ('' none) says why it refused the offered one. */
  | { readonly type: 'policy_status'; readonly version: number; readonly hash: Bytes; readonly error: string }
  /**
   * A signer's decision on a sign request, signed with its identity key: canonical JSON
   * (cluster/policy/receipt.ts) that lets anyone check which policy allowed the signature.
   */
  | { readonly type: 'receipt'; readonly session: Bytes; readonly receipt: Bytes; readonly signature: Bytes };

/** A protocol message relayed from node to node, already encoded by the protocol core. */
export interface PeerMessage {
  readonly type: 'protocol';
  readonly session: Bytes;
  readonly keyId: string;
  readonly round: number;
  readonly message: Bytes;
}

export type ClusterMessage = CoordinatorMessage | NodeReport | PeerMessage;

const scheme: Codec<Scheme> = {
  encode: (v) => v,
  decode: (raw, path) => {
    if (!isScheme(raw)) throw new DecodeError('malformed', `${path}: unknown scheme`);
    return raw;
  },
};
const messageHash: Codec<'' | MessageHash> = {
  encode: (v) => v,
  decode: (raw, path) => {
    if (raw !== '' && !isMessageHash(raw)) throw new DecodeError('malformed', `${path}: unknown message hash`);
    return raw;
  },
};
const transactionFormat: Codec<'' | TransactionFormat> = {
  encode: (v) => v,
  decode: (raw, path) => {
    if (raw !== '' && !TRANSACTION_FORMATS.includes(raw as TransactionFormat)) throw new DecodeError('malformed', `${path}: unknown transaction format`);
    return raw as '' | TransactionFormat;
  },
};
const session = bytes(32);
const keyId = text(128);
const policyHashField = bytes(32);
const parties = array(party, { min: 1, max: MAX_PARTIES });

const nonceCommitmentsCodec = struct<NonceCommitmentsWire>({ hiding: bytes({ min: 32, max: 33 }), binding: bytes({ min: 32, max: 33 }) });

export const custodyCodec = struct<Custody>({ minThreshold: uint(MAX_PARTIES), minParties: uint(MAX_PARTIES), members: parties });

/** 8 bytes of a custody's hash, in hex: appended to protocol ids so participants that disagree on it never combine. */
export function custodyTag(c: Custody): string {
  return Buffer.from(hashTranscript('mpc-signer/custody/v1', encodeCbor(custodyCodec, c))).toString('hex', 0, 8);
}

export const sameCustody = (a: Custody, b: Custody): boolean => custodyTag(a) === custodyTag(b);

/**
 * The custody a key gets when nobody chose one: its threshold and committee size as floors, the
 * cluster's nodes as the allowed members. New keys are created with it, and keys stored before
 * custody existed are held to it; the coordinator and the nodes derive it with this one function.
 */
export function inferredCustody(threshold: number, committee: readonly PartyId[], cluster: readonly PartyId[]): Custody {
  return { minThreshold: threshold, minParties: committee.length, members: [...cluster].sort((a, b) => a - b) };
}

/**
 * Why a committee breaks a custody rule, or undefined when it keeps it. `manifest`: the nodes
 * this node knows (a custody naming others was not made in this cluster).
 */
export function custodyViolation(c: Custody, threshold: number, committee: readonly PartyId[], manifest: readonly PartyId[]): string | undefined {
  const strangers = c.members.filter((m) => !manifest.includes(m));
  if (strangers.length) return `custody names node(s) ${strangers.join(', ')} outside the cluster manifest`;
  if (c.minThreshold < 2 || c.minParties < c.minThreshold) return `custody ${c.minThreshold}/${c.minParties} is not a valid threshold rule`;
  if (threshold < c.minThreshold) return `threshold ${threshold} is below the key's minimum ${c.minThreshold}`;
  if (committee.length < c.minParties) return `a committee of ${committee.length} is smaller than the key's minimum ${c.minParties}`;
  const outside = committee.filter((p) => !c.members.includes(p));
  if (outside.length) return `node(s) ${outside.join(', ')} may not hold this key`;
  return undefined;
}

export const keygenRequestCodec = struct<KeygenRequest>({ session, keyId, scheme, threshold: uint(MAX_PARTIES), parties, custody: custodyCodec, label: text(64) });
export const destroyRequestCodec = struct<DestroyRequest>({ session, keyId });
export const refreshRequestCodec = struct<RefreshRequest>({ session, keyId, epoch: uint(2 ** 32), parties });
export const repairRequestCodec = struct<RepairRequest>({ session, keyId, scheme, epoch: uint(2 ** 32), lost: party, helpers: parties, custody: custodyCodec });
export const reshareRequestCodec = struct<ReshareRequest>({
  session,
  keyId,
  scheme,
  epoch: uint(2 ** 32),
  dealers: parties,
  newParties: parties,
  newThreshold: uint(MAX_PARTIES),
  custody: custodyCodec,
});
export const confirmEpochRequestCodec = struct<ConfirmEpochRequest>({ session, keyId, epoch: uint(2 ** 32) });
export const signRequestCodec = struct<SignRequest>({
  session,
  keyId,
  scheme,
  message: bytes({ min: 0, max: MAX_SIGN_MESSAGE_BYTES }),
  hash: messageHash,
  derivationPath: text(MAX_PATH_CHARS),
  taproot: array(bytes({ min: 0, max: 32 }), { min: 0, max: 1 }),
  signers: parties,
  epoch: uint(2 ** 32),
  transaction: transactionFormat,
  input: uint(65_535),
  expectedDigest: bytes({ min: 0, max: 32 }),
  requestId: text(128),
  deadline: uint(Number.MAX_SAFE_INTEGER),
  approvals: array(struct({ approver: text(64), signature: bytes(64) }), { min: 0, max: 32 }),
  policyHash: policyHashField,
  presignature: array(
    struct<PresignatureRef>({ session, index: uint(MAX_PRESIGN_BATCH), commitments: array(nonceCommitmentsCodec, { min: 0, max: MAX_PARTIES }) }),
    { min: 0, max: 1 },
  ),
});
export const presignRequestCodec = struct<PresignRequest>({
  session,
  keyId,
  scheme,
  epoch: uint(2 ** 32),
  signers: parties,
  derivationPath: text(MAX_PATH_CHARS),
  taproot: array(bytes({ min: 0, max: 32 }), { min: 0, max: 1 }),
  count: uint(MAX_PRESIGN_BATCH),
});

type Variants<M extends { type: string }> = { [K in M['type']]: Codec<Omit<Extract<M, { type: K }>, 'type'>> };

/** A discriminated union as `[tag, record]`. */
function tagged<M extends { type: string }>(variants: Variants<M>): Codec<M> {
  return {
    encode: (m) => {
      const codec = variants[m.type as M['type']];
      const { type: _type, ...body } = m;
      return [m.type, codec.encode(body as never)] as CborValue;
    },
    decode: (raw, path) => {
      if (!Array.isArray(raw) || raw.length !== 2 || typeof raw[0] !== 'string') throw new DecodeError('malformed', `${path}: expected [type, body]`);
      const tag = raw[0];
      if (!Object.hasOwn(variants, tag)) throw new DecodeError('malformed', `${path}: unknown message type ${JSON.stringify(tag.slice(0, 32))}`);
      const body = variants[tag as M['type']].decode(raw[1], `${path}.${tag}`);
      return { type: tag, ...body } as unknown as M;
    },
  };
}

const request = bytes({ min: 1, max: MAX_SIGN_MESSAGE_BYTES + 4096 });

export const clusterMessageCodec: Codec<ClusterMessage> = tagged<ClusterMessage>({
  keygen: struct({ request }),
  sign: struct({ request }),
  presign: struct({ request }),
  destroy: struct({ request }),
  refresh: struct({ request }),
  confirm_epoch: struct({ request }),
  repair: struct({ request }),
  reshare: struct({ request }),
  cancel: struct({ session }),
  ping: struct({ nonce: bytes(16) }),
  keygen_done: struct({ session, keyId, groupKey: bytes({ min: 32, max: 33 }), chainCode: bytes(32) }),
  sign_done: struct({ session, signature: bytes(64), recoveryId: uint(3) }),
  presign_done: struct({ session, keyId, commitments: array(nonceCommitmentsCodec, { min: 0, max: MAX_PRESIGN_BATCH }) }),
  failed: struct({ session, code: text(64), reason: text(512), culprits: array(party, { min: 0, max: MAX_PARTIES }) }),
  destroyed: struct({ session, keyId }),
  repair_done: struct({ session, keyId }),
  reshare_done: struct({ session, keyId, epoch: uint(2 ** 32), groupKey: bytes({ min: 32, max: 33 }), commitmentsDigest: bytes(32) }),
  refresh_done: struct({ session, keyId, epoch: uint(2 ** 32), groupKey: bytes({ min: 32, max: 33 }) }),
  pong: struct({ nonce: bytes(16) }),
  policy: struct({ nonce: bytes(16), document: bytes({ min: 2, max: 4 * 1024 * 1024 }), signatures: array(struct({ admin: text(64), signature: bytes(64), mldsaSignature: bytes({ min: 0, max: 4096 }) }), { min: 0, max: 64 }) }),
  policy_status: struct({ version: uint(Number.MAX_SAFE_INTEGER), hash: bytes(32), error: text(512) }),
  receipt: struct({ session, receipt: bytes({ min: 2, max: 8192 }), signature: bytes(64) }),
  protocol: struct({ session, keyId, round: uint(255), message: bytes({ min: 1, max: 4 * 1024 * 1024 }) }),
});

export const encodeClusterMessage = (m: ClusterMessage): Uint8Array => encodeCbor(clusterMessageCodec, m);
export const decodeClusterMessage = (b: Uint8Array): ClusterMessage => decodeCbor(clusterMessageCodec, b);

/**
 * The requests the coordinator sends, each the CBOR encoding of its type's record. What makes a
 * node act on one is the envelope it came in (cluster/envelope.ts): signed by the coordinator's
 * identity key over the message, its type and these bytes included, bound to this node as the
 * recipient, and checked before anything is decoded; a second signature over the request alone
 * would add nothing to that.
 */
export type RequestType = 'keygen' | 'sign' | 'presign' | 'destroy' | 'refresh' | 'confirm_epoch' | 'repair' | 'reshare';

/** The codec of each request type: the coordinator encodes with it, a node decodes with it. */
export const REQUEST_CODECS = {
  keygen: keygenRequestCodec,
  sign: signRequestCodec,
  presign: presignRequestCodec,
  destroy: destroyRequestCodec,
  refresh: refreshRequestCodec,
  confirm_epoch: confirmEpochRequestCodec,
  repair: repairRequestCodec,
  reshare: reshareRequestCodec,
} as const satisfies Record<RequestType, unknown>;

/** The request a request type carries. */
export type RequestOf<T extends RequestType> = (typeof REQUEST_CODECS)[T] extends Codec<infer R> ? R : never;

/** The codec of `type`'s request, typed by it. */
export const requestCodec = <T extends RequestType>(type: T): Codec<RequestOf<T>> => REQUEST_CODECS[type] as unknown as Codec<RequestOf<T>>;

