import type { PartyId } from './ids.ts';

/**
 * A message could not be decoded or validated. The message is dropped; the session
 * is not harmed unless the protocol decides the sender must be blamed for it.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly code: DecodeErrorCode;
  constructor(code: DecodeErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export type DecodeErrorCode =
  | 'malformed' // not CBOR, or not the expected shape
  | 'unknown_field' // more fields than the schema has
  | 'missing_field'
  | 'wrong_length'
  | 'invalid_scalar' // out of range (>= group order) or zero where forbidden
  | 'invalid_point' // not on the curve, not in the subgroup, or not canonical
  | 'identity_point'
  | 'too_large';

/** Why a protocol session ended without output. */
export type AbortReason =
  | 'invalid_message' // a peer sent something that fails validation
  | 'invalid_proof' // proof of knowledge / zero-knowledge check failed
  | 'invalid_share' // a secret share does not match its commitment
  | 'equivocation' // a broadcast was not the same for everyone
  | 'invalid_signature_share'
  | 'consistency_check_failed' // DKLs23 / OT extension checks
  | 'inputs_mismatch' // signers were given different public inputs: the coordinator's doing, no signer is named
  | 'pair_retired' // a pairwise setup already caught cheating is not used again
  | 'invalid_commitment_opening'
  | 'invalid_signature' // final aggregate does not verify
  | 'unexpected_message'
  | 'local_failure';

/**
 * The typed, terminal failure of a protocol session. `culprits` names the parties the
 * protocol can prove misbehaved; it is empty when the protocol cannot tell.
 */
export class ProtocolAbort extends Error {
  override readonly name = 'ProtocolAbort';
  readonly reason: AbortReason;
  readonly culprits: readonly PartyId[];
  constructor(reason: AbortReason, culprits: readonly PartyId[], message: string) {
    super(message);
    this.reason = reason;
    this.culprits = [...culprits].sort((a, b) => a - b);
  }
}

/** A party was used after its session ended (completed or aborted). */
export class SessionTerminated extends Error {
  override readonly name = 'SessionTerminated';
}

export { ProtocolConfigError } from './config-error.ts';
