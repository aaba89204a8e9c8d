/**
 * A signer's receipt: its decision on one sign request, as canonical JSON signed with its
 * Ed25519 identity key (the one the cluster manifest pins). With the receipts of a signature's
 * signers, a client can show which policy version and rule allowed it, without trusting the
 * coordinator that relayed them.
 */
import { verify as edVerify } from 'node:crypto';
import { ed25519PublicKey } from '../../protocol/curves/curve25519-keys.ts';
import { canonicalJson, domainSeparated } from './canonical.ts';

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

export const RECEIPT_DOMAIN = 'mpc-signer/receipt/v1';

export const receiptBytes = (r: Receipt): Uint8Array => new TextEncoder().encode(canonicalJson({ ...r }));

export const receiptSigningInput = (bytes: Uint8Array): Uint8Array => domainSeparated(RECEIPT_DOMAIN, bytes);

/** Whether `signature` is `nodeKey`'s over the receipt bytes (as relayed, unparsed). */
export function receiptVerifies(bytes: Uint8Array, signature: Uint8Array, nodeKey: Uint8Array): boolean {
  return signature.length === 64 && edVerify(null, receiptSigningInput(bytes), ed25519PublicKey(nodeKey), signature);
}
