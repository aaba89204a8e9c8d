/**
 * Approvals: an approver's Ed25519 signature over one canonical sign request. The request names
 * everything that decides what gets signed (key, the SHA-256 of the message, preimage or
 * transaction, how the node turns it into a digest, path, Taproot spend), a unique request id and
 * a deadline, so an approval cannot be moved to another request, and each node takes a request
 * id once (`PolicyLedger`), so it cannot be replayed after its request was signed.
 */
import { createHash, sign as edSign, verify as edVerify } from 'node:crypto';
import { ed25519PrivateKey, ed25519PublicKey } from '../../protocol/curves/curve25519-keys.ts';
import { domainSeparated } from '../../contract/domain-separated.ts';
import { canonicalJson } from './canonical.ts';

/** What approvers sign: the request as the nodes will see it. */
export interface ApprovalRequest {
  readonly requestId: string;
  readonly keyId: string;
  /** Hex SHA-256 of the bytes the request carries (digest, preimage or transaction). */
  readonly messageSha256: string;
  /** '' when the message is signed as it is. */
  readonly hash: string;
  /** '' for a digest or preimage; `ethereum`, `psbt` or `solana` for a transaction. */
  readonly transaction: string;
  /** The PSBT input signed (0 otherwise). */
  readonly input: number;
  readonly derivationPath: string;
  /** null: no Taproot spend; '': BIP86; else the hex merkle root. */
  readonly taproot: string | null;
  /** Unix seconds after which no node accepts the approval. */
  readonly deadline: number;
}

export interface Approval {
  readonly approver: string;
  readonly signature: Uint8Array;
}

/** What a sign request says that approvers sign over (as the API and the nodes both hold it). */
export interface ApprovalFields {
  readonly requestId: string;
  readonly deadline: number;
  readonly message: Uint8Array;
  readonly hash?: string;
  readonly transaction?: string;
  readonly input?: number;
  readonly derivationPath?: string;
  /** Absent: no Taproot spend; `{}`: BIP86; `{ merkleRoot }`: with a script tree. */
  readonly taproot?: { readonly merkleRoot?: Uint8Array };
}

/** The canonical request approvers sign: one builder for the coordinator, the nodes and the tools. */
export function approvalRequest(keyId: string, f: ApprovalFields): ApprovalRequest {
  return {
    requestId: f.requestId,
    keyId,
    messageSha256: sha256Hex(f.message),
    hash: f.hash ?? '',
    transaction: f.transaction ?? '',
    input: f.input ?? 0,
    derivationPath: f.derivationPath ?? '',
    taproot: f.taproot ? Buffer.from(f.taproot.merkleRoot ?? new Uint8Array()).toString('hex') : null,
    deadline: f.deadline,
  };
}

export const approvalSigningInput = (r: ApprovalRequest): Uint8Array => domainSeparated('mpc-signer/approval/v1', canonicalJson({ ...r }));

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** An approver's signature (the CLI's `mpc approve`). */
export function signApproval(seed: Uint8Array, request: ApprovalRequest): Uint8Array {
  return new Uint8Array(edSign(null, approvalSigningInput(request), ed25519PrivateKey(seed)));
}

/** The distinct approvers, among `keys`, whose signature over `request` verifies. */
export function validApprovers(keys: Readonly<Record<string, string>> | undefined, request: ApprovalRequest, approvals: readonly Approval[]): Set<string> {
  const input = approvalSigningInput(request);
  const valid = new Set<string>();
  for (const a of approvals) {
    const key = keys?.[a.approver];
    if (key && a.signature.length === 64 && edVerify(null, input, ed25519PublicKey(Buffer.from(key, 'hex')), a.signature)) valid.add(a.approver);
  }
  return valid;
}
