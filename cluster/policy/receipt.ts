/**
 * A signer's receipt: its decision on one sign request, as canonical JSON signed with its
 * Ed25519 identity key (the one the cluster manifest pins). With the receipts of a signature's
 * signers, a client can show which policy version and rule allowed it, without trusting the
 * coordinator that relayed them.
 */
import { canonicalJson } from './canonical.ts';

export interface Receipt {
  readonly node: number;
  readonly keyId: string;
  readonly session: string;
  /** '' when the request had none. */
  readonly requestId: string;
  /** Hex: what this node signed (the digest it computed, or the SHA-256 of a message signed as is). */
  readonly signed: string;
  readonly decision: 'allowed' | 'refused';
  readonly rule: string;
  readonly policyVersion: number;
  /** Hex SHA-256 policy hash (cluster/policy/document.ts). */
  readonly policyHash: string;
  /** ISO 8601, the node's clock. */
  readonly at: string;
}

export const receiptBytes = (r: Receipt): Uint8Array => new TextEncoder().encode(canonicalJson({ ...r }));
