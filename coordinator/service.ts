/**
 * The signing service behind the HTTP API: what the coordinator can do, independent of
 * HTTP. The API layer (`coordinator/api/`) validates and authenticates requests, then calls
 * this; the engine (`coordinator/engine/`) implements it by driving the nodes.
 */

import { DerivationError, parsePath } from '../protocol/derive.ts';
import type { MessageHash, Scheme, TaprootSpend } from '../protocol/schemes/index.ts';
import type { TransactionFormat } from '../cluster/control.ts';
import type { Policy } from '../contract/policy.ts';
import type { ApprovalRequest } from '../cluster/policy/approvals.ts';

export type { Scheme } from '../protocol/schemes/index.ts';

/** Node ids are the integers 1..65535 used as protocol party ids. */
export type NodeId = number;

/** A key's record in the coordinator's registry (public facts only; the API answers with a view of it). */
export interface KeyInfo {
  readonly id: string;
  readonly scheme: Scheme;
  readonly threshold: number;
  readonly nodes: readonly NodeId[];
  /** Hex: ECDSA 33-byte compressed SEC1, Ed25519 32 bytes, BIP340 32-byte x-only (the Taproot internal key). */
  readonly publicKey: string;
  /**
   * BIP340 keys made before the internal-key change: their stored key is already the BIP86
   * output key of an internal key nobody knows, so they sign only as they always did (plain,
   * under that output key, which is a key-path spend) and refuse Taproot options.
   */
  readonly taprootOutputOnly?: true;
  /** The owner's name for the key (not unique); `GET /v1/keys?label=` filters by it. */
  readonly label?: string;
  /** Small string map the owner attaches at creation (account ids and the like). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Hex, 32 bytes, agreed at key generation (BIP32 non-hardened derivation). */
  readonly chainCode: string;
  /** Hex: the full group point (SEC1 compressed for secp256k1 schemes; BIP340 keeps its parity here). */
  readonly groupKey?: string;
  readonly createdAt: string;
  /** `disabled` keys refuse to sign (403 key_disabled) until enabled again. */
  readonly status?: KeyStatus;
  /** Share epoch (0 at key generation; refresh and resharing move it on). */
  readonly epoch?: number;
  /**
   * What the key's committee may never go below or outside of, fixed at creation and enforced by
   * every node that holds it (SECURITY.md): minimum threshold, minimum number of holders, allowed nodes.
   */
  readonly custody?: { readonly minThreshold: number; readonly minParties: number; readonly members: readonly NodeId[] };
}

export type KeyStatus = 'active' | 'disabled';

export interface SignResult {
  /** Hex: ECDSA 64-byte r‖s low-S, Ed25519 RFC 8032 64 bytes, BIP340 64 bytes. */
  readonly signature: string;
  /** Hex: the key that verifies `signature` (the derived child, or the Taproot output key, when asked). */
  readonly publicKey: string;
  readonly signers: readonly NodeId[];
  /** ECDSA only: 0/1 (yParity), so `ecrecover` works. */
  readonly recoveryId?: 0 | 1;
  /** ECDSA only, hex: r and s (32 bytes each) and the strict DER encoding (low S). */
  readonly r?: string;
  readonly s?: string;
  readonly der?: string;
  /** Hex: the digest the nodes computed and signed, when the request gave a preimage, a `hash` or a transaction. */
  readonly digest?: string;
  /** Each signer's signed receipt, when a policy is in force. */
  readonly receipts?: readonly SignReceipt[];
}

/** The policy in force, and which version each node enforces. */
export interface PolicyView {
  readonly version: number;
  /** Hex. */
  readonly hash: string;
  /** The document (absent at version 0: no policy). */
  readonly policy?: Policy;
  readonly signatures: readonly { readonly admin: string; readonly signature: string; readonly mldsaSignature?: string }[];
  readonly nodes: readonly { readonly id: NodeId; readonly version?: number; readonly hash?: string; readonly error?: string }[];
}

export type SessionEvent =
  | { readonly type: 'started'; readonly session: string; readonly operation: 'keygen' | 'sign' | 'refresh' | 'reshare' | 'repair' | 'destroy'; readonly keyId?: string; readonly nodes: readonly NodeId[] }
  /** A node finished its part of a multi-node operation (`done` of `of`). */
  | { readonly type: 'node_done'; readonly session: string; readonly node: NodeId; readonly done: number; readonly of: number }
  | { readonly type: 'round'; readonly session: string; readonly round: number }
  | { readonly type: 'signer_failed'; readonly session: string; readonly node: NodeId; readonly reason: string }
  | { readonly type: 'retried'; readonly session: string; readonly attempt: number; readonly nodes: readonly NodeId[] }
  | { readonly type: 'completed'; readonly session: string; readonly ok: boolean; readonly error?: string }
  /** A request waiting for approvers got one (`have` of the `need` its rule asks). */
  | { readonly type: 'approval'; readonly request: string; readonly approver: string; readonly have: number; readonly need: number };

export interface RequestContext {
  /** Absolute deadline, ms since the epoch; the service answers `deadline_exceeded` after it. */
  readonly deadline: number;
  readonly requestId: string;
  /** Progress for WebSocket subscribers; must not throw. */
  readonly emit: (event: SessionEvent) => void;
}

export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  readonly nodes: readonly { readonly id: NodeId; readonly online: boolean }[];
}

export interface CreateKeyRequest {
  readonly scheme: Scheme;
  readonly threshold?: number;
  readonly nodes?: readonly NodeId[];
  readonly label?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface SignRequest {
  /** ECDSA: 32-byte digest; Ed25519: raw message ≤ 64 KiB; BIP340: 32 bytes; with `hash`, the preimage (≤ 64 KiB). */
  readonly message: Uint8Array;
  /** The nodes hash `message` with this to get what they sign. */
  readonly hash?: MessageHash;
  readonly derivationPath?: string;
  /** BIP340 only: sign for a Taproot output (`{}`: BIP86 key path; `{ merkleRoot }`: with a script tree). */
  readonly taproot?: TaprootSpend;
  /** `message` is a transaction in this format, which each node decodes and checks against its policy. */
  readonly transaction?: TransactionFormat;
  /** PSBT: the input to sign (default 0). */
  readonly input?: number;
  /** The digest the client expects the transaction to have: refused when it does not. */
  readonly expectedDigest?: Uint8Array;
  /** Approvals: the request's unique id, their deadline (unix seconds) and the approvers' signatures. */
  readonly requestId?: string;
  readonly deadline?: number;
  readonly approvals?: readonly { readonly approver: string; readonly signature: Uint8Array }[];
}

/** Where a request waiting for approvals stands (coordinator/engine/pending.ts). */
export type PendingStatus = 'awaiting_approvals' | 'signing' | 'signed' | 'failed' | 'expired';

export interface PendingView {
  readonly requestId: string;
  readonly keyId: string;
  readonly status: PendingStatus;
  /** What approvers sign (canonical JSON of this, see README "Policy"). */
  readonly approval: ApprovalRequest;
  /** Hex: the message, preimage or transaction itself, for approvers to read (its SHA-256 is in `approval`). */
  readonly message: string;
  readonly required: number;
  readonly approvedBy: readonly string[];
  readonly result?: SignResult;
  readonly error?: { readonly code: string; readonly message: string };
}

/** A signer's signed decision, as it sent it (cluster/policy/receipt.ts). */
export interface SignReceipt {
  readonly node: NodeId;
  /** Canonical JSON, exactly the bytes the node signed (after the receipt domain line). */
  readonly receipt: string;
  /** Hex Ed25519 signature with the node's identity key. */
  readonly signature: string;
}

/** A page of keys: `next` is the cursor of the following page, absent on the last. */
export interface KeyPage {
  readonly keys: readonly KeyInfo[];
  readonly next?: string;
}

export interface KeyQuery {
  readonly limit: number;
  readonly cursor?: string;
  readonly label?: string;
}

export interface SigningService {
  health(): HealthReport;
  createKey(request: CreateKeyRequest, ctx: RequestContext): Promise<KeyInfo>;
  listKeys(query: KeyQuery): Promise<KeyPage>;
  getKey(id: string): Promise<KeyInfo | undefined>;
  sign(keyId: string, request: SignRequest, ctx: RequestContext): Promise<SignResult>;
  /** Disables or re-enables signing with a key. */
  setKeyStatus?(id: string, status: KeyStatus): Promise<KeyInfo>;
  /** Moves a key to a new committee and/or threshold; the public key stays. */
  reshareKey?(id: string, request: { nodes: readonly NodeId[]; threshold: number }, ctx: RequestContext): Promise<KeyInfo>;
  /** Rebuilds `node`'s lost share of a key with the help of t other holders. */
  repairKey?(id: string, node: NodeId, ctx: RequestContext): Promise<void>;
  /** Proactive refresh: every share changes, the public key does not; returns the key with its new epoch. */
  refreshKey?(id: string, ctx: RequestContext): Promise<KeyInfo>;
  /** Erases every share of the key on every node (crypto-shredding), then forgets the key. */
  destroyKey?(id: string, ctx: RequestContext): Promise<void>;
  /** The signing policy in force and each node's version. */
  policy?(): PolicyView;
  /** Keeps a sign request until its rule's approvers have signed it, then signs (see PendingView). */
  submitForApproval?(keyId: string, request: SignRequest, ctx: RequestContext): Promise<PendingView>;
  pendingRequest?(requestId: string): PendingView;
  approveRequest?(requestId: string, approver: string, signature: Uint8Array): PendingView;
  /** A new policy version with its administrators' signatures (`policy_invalid` without the quorum or when not newer). */
  proposePolicy?(document: Uint8Array, signatures: readonly { readonly admin: string; readonly signature: Uint8Array; readonly mldsaSignature?: Uint8Array }[]): Promise<PolicyView>;
}

/** Typed service failures; the API maps each code to one HTTP status. */
export type ServiceErrorCode =
  | 'invalid_request' // 400
  | 'unsupported' // 400
  | 'key_not_found' // 404
  | 'request_not_found' // 404
  | 'key_disabled' // 403
  | 'policy_denied' // 403: a node's policy refused the request (the message names the rule)
  | 'policy_invalid' // 403: a policy proposal without the administrators' quorum, or not newer
  | 'policy_mismatch' // 409: the nodes enforce another policy version than the coordinator
  | 'overloaded' // 429
  | 'quorum_unavailable' // 503
  | 'deadline_exceeded' // 504
  | 'internal'; // 500

/** A derivation path's steps, or the ServiceError for it: hardened steps are `unsupported` (with the reason), anything else malformed `invalid_request`. */
export function pathSteps(path: string): number[] {
  try {
    return parsePath(path);
  } catch (e) {
    throw new ServiceError(e instanceof DerivationError && e.code === 'hardened' ? 'unsupported' : 'invalid_request', (e as Error).message);
  }
}

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly code: ServiceErrorCode;
  constructor(code: ServiceErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
