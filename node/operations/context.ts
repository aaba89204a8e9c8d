/**
 * What the node's operation handlers (one module per signed request type) work with. The
 * runtime builds it once; handlers check a request against the node's own records, load what
 * they need through `store/share-access.ts`, and start a session or refuse.
 */
import { inferredCustody, type Custody } from '../../cluster/control.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import type { PartyId, Rng, SessionId } from '../../protocol/core/ids.ts';
import type { PairRetirement } from '../session/pair-retirement.ts';
import type { SessionRunner } from '../session/runner.ts';
import type { ProtocolWorkers } from '../session/worker-pool.ts';
import type { Refusal } from '../store/share-access.ts';
import type { ShareVault, StoredKey } from '../store/types.ts';
import type { PolicyLedger } from '../store/policy-ledger.ts';
import type { Administrators } from '../../cluster/transport/manifest.ts';
import type { NodeReport } from '../../cluster/control.ts';

export interface AuditEntry {
  readonly event: 'keygen' | 'sign' | 'destroy' | 'refresh' | 'repair' | 'reshare' | 'policy';
  readonly keyId: string;
  readonly session: string;
  /** SHA-256 of the message (or preimage), never the message itself for large payloads. */
  readonly messageDigest?: string;
  /** When the request gave a preimage: the hash this node applied, and the digest it signed. */
  readonly hash?: string;
  readonly signedDigest?: string;
  readonly derivationPath?: string;
  /** A Taproot spend: its merkle root (empty for BIP86) and the output key signed under. */
  readonly taproot?: { readonly merkleRoot: string };
  readonly signingKey?: string;
  readonly signers: readonly PartyId[];
  readonly outcome: 'started' | 'completed' | 'aborted' | 'allowed' | 'refused' | 'applied';
  /** Policy decisions: the rule that decided, why it refused, the policy version and hash in force. */
  readonly rule?: string;
  readonly reason?: string;
  readonly policyVersion?: number;
  readonly policyHash?: string;
  readonly requestId?: string;
  /** The presignature a sign request used (`<presigning session>.<index>`). */
  readonly presignature?: string;
}

export interface NodeContext {
  readonly self: PartyId;
  /** Every node of the cluster manifest: no key may ever be held outside it. */
  readonly members: readonly PartyId[];
  readonly vault: ShareVault;
  readonly sessions: SessionRunner;
  readonly pairs: PairRetirement;
  /** Protocol worker threads, when the node runs signing sessions on them. */
  readonly workers?: ProtocolWorkers;
  /** The node's randomness (work done outside a session: FROST nonces committed ahead). */
  readonly rng: Rng;
  audit(entry: AuditEntry): Promise<void>;
  /** Accepts a session id for a key once, ever; reports and throws when it was used before. */
  claimSession(keyId: string, session: Bytes): Promise<SessionId>;
  /** The policy this node enforces, its usage counts and spent request ids. */
  readonly policy: PolicyLedger;
  /** Who may sign policy versions (the cluster manifest's administrators). */
  readonly administrators?: Administrators;
  /** This node's provider vendor (placement rules): `local`, `aws`, `pkcs11:<model>`… */
  readonly vendor: string;
  /** Signs with this node's identity key (receipts). */
  signAsNode(input: Uint8Array): Uint8Array;
  /** Sends a report to the coordinator. */
  report(message: NodeReport): void;
}

/** Reports a refusal of session `id` to the coordinator. */
export function refuse(ctx: NodeContext, id: SessionId, refusal: Refusal): void {
  ctx.sessions.fail(id, refusal.reason, refusal.culprits ?? [], refusal.code);
}

/**
 * A key's custody: as sealed at creation, or for keys stored before custody existed, the rule
 * they were created under in effect — their threshold and committee size as floors, the
 * cluster manifest as the allowed members.
 */
export function custodyOf(ctx: NodeContext, key: StoredKey): Custody {
  return key.custody ?? inferredCustody(key.threshold, key.parties, ctx.members);
}
