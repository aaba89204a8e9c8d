/**
 * The signing service behind the HTTP API: what the coordinator can do, independent of
 * HTTP. The API layer (`coordinator/api/`) validates and authenticates requests, then calls
 * this; the engine (`coordinator/engine/`) implements it by driving the nodes.
 */

import type { Scheme } from '../protocol/schemes/index.ts';

export type { Scheme } from '../protocol/schemes/index.ts';

/** Node ids are the integers 1..65535 used as protocol party ids. */
export type NodeId = number;

export interface KeyInfo {
  readonly id: string;
  readonly scheme: Scheme;
  readonly threshold: number;
  readonly nodes: readonly NodeId[];
  /** Hex: ECDSA 33-byte compressed SEC1, Ed25519 32 bytes, BIP340 32-byte x-only. */
  readonly publicKey: string;
  /** Hex, 32 bytes, agreed at key generation (BIP32 non-hardened derivation). */
  readonly chainCode: string;
  /** Hex: the full group point (SEC1 compressed for secp256k1 schemes; BIP340 keeps its parity here). */
  readonly groupKey?: string;
  /** BIP32 extended public key of the root, for secp256k1 schemes: clients derive children themselves. */
  readonly xpub?: string;
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
  /** Hex: the key that verifies `signature` (the derived child when a path was given). */
  readonly publicKey: string;
  readonly signers: readonly NodeId[];
  /** ECDSA only: 0/1, so `ecrecover` works. */
  readonly recoveryId?: 0 | 1;
}

export type SessionEvent =
  | { readonly type: 'started'; readonly session: string; readonly operation: 'keygen' | 'sign'; readonly keyId?: string; readonly nodes: readonly NodeId[] }
  | { readonly type: 'round'; readonly session: string; readonly round: number }
  | { readonly type: 'signer_failed'; readonly session: string; readonly node: NodeId; readonly reason: string }
  | { readonly type: 'retried'; readonly session: string; readonly attempt: number; readonly nodes: readonly NodeId[] }
  | { readonly type: 'completed'; readonly session: string; readonly ok: boolean; readonly error?: string };

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
}

export interface SignRequest {
  /** ECDSA: 32-byte digest; Ed25519: raw message ≤ 64 KiB; BIP340: 32 bytes. */
  readonly message: Uint8Array;
  readonly derivationPath?: string;
}

export interface SigningService {
  health(): HealthReport;
  createKey(request: CreateKeyRequest, ctx: RequestContext): Promise<KeyInfo>;
  listKeys(): Promise<readonly KeyInfo[]>;
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
}

/** Typed service failures; the API maps each code to one HTTP status. */
export type ServiceErrorCode =
  | 'invalid_request' // 400
  | 'unsupported' // 400
  | 'key_not_found' // 404
  | 'key_disabled' // 403
  | 'overloaded' // 429
  | 'quorum_unavailable' // 503
  | 'deadline_exceeded' // 504
  | 'internal'; // 500

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly code: ServiceErrorCode;
  constructor(code: ServiceErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
