/**
 * The node's own check of a sign request against the policy it holds, before its share is
 * used: the coordinator's signature on the request only says the coordinator asked. Whatever
 * the outcome, the decision goes into this node's signed, hash-chained audit log; an allowed
 * request is counted durably (rate and value limits) and its signed receipt goes to the
 * coordinator, which hands it to the client.
 */
import { taprootSpendOf, type SignRequest } from '../../cluster/control.ts';
import { approvalRequest, sha256Hex, validApprovers, type ApprovalRequest } from '../../cluster/policy/approvals.ts';
import { bitcoinNetworkFor, decide, ruleFor } from '../../cluster/policy/evaluate.ts';
import { receiptBytes, type Receipt } from '../../cluster/policy/receipt.ts';
import { receiptSigningInput } from '../../contract/receipt.ts';
import { signedContent } from '../../cluster/policy/signed-content.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import type { SessionId } from '../../protocol/core/ids.ts';
import type { StoredKey } from '../store/types.ts';
import type { Refusal } from '../store/share-access.ts';
import type { NodeContext } from './context.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** What a sign request is, as the node understood it, once its policy let it through. */
export interface Admitted {
  /** The bytes the scheme signs. */
  readonly toSign: Uint8Array;
  readonly policyHash: Uint8Array;
  /** To call when the session ends: a completed request spends its approvals. */
  readonly ended: (completed: boolean) => Promise<void>;
}

/** The canonical request approvers sign, rebuilt from what the node received. */
export function approvalRequestOf(request: SignRequest): ApprovalRequest {
  const { taproot: field, ...rest } = request;
  const taproot = taprootSpendOf(field);
  return approvalRequest(request.keyId, { ...rest, ...(taproot ? { taproot } : {}) });
}

/**
 * Checks `request` for the key signing under `signingKey`; a refusal carries the code the
 * coordinator passes on (`policy_mismatch`, `policy_denied`, `invalid_request`).
 */
export async function admitSign(ctx: NodeContext, id: SessionId, request: SignRequest, key: StoredKey, signingKey: Uint8Array, now = new Date()): Promise<{ ok: true; value: Admitted } | { ok: false; refusal: Refusal }> {
  const active = await ctx.policy.active();
  /** Every refusal is on record in the audit log, whatever refused it. */
  const refused = async (code: string, rule: string, reason: string, signed?: string) => {
    await ctx.audit({
      event: 'policy',
      keyId: request.keyId,
      session: id,
      signers: request.signers,
      outcome: 'refused',
      rule,
      reason,
      policyVersion: active.version,
      policyHash: hex(active.hash),
      ...(request.requestId ? { requestId: request.requestId } : {}),
      ...(signed ? { signedDigest: signed } : {}),
    });
    return { ok: false as const, refusal: { code, reason: code === 'policy_denied' ? `rule ${rule}: ${reason}` : reason } };
  };
  if (!Buffer.from(request.policyHash).equals(Buffer.from(active.hash))) {
    return refused('policy_mismatch', 'policy-version', `node ${ctx.self} enforces policy version ${active.version} (${hex(active.hash).slice(0, 16)}…), not the one the request names`);
  }
  const rule = active.policy ? ruleFor(active.policy, request.keyId, key.label) : undefined;
  const content = signedContent(request, signingKey, bitcoinNetworkFor(active.policy, request.keyId, key.label));
  if ('problem' in content) return refused('invalid_request', 'content', content.problem);
  const signed = content.bytes.length === 32 ? hex(content.bytes) : sha256Hex(content.bytes);
  const ended = async (completed: boolean) => {
    if (request.requestId && active.policy) await ctx.policy.requestEnded(request.requestId, id, completed);
  };
  if (!active.policy) return { ok: true, value: { toSign: content.bytes, policyHash: active.hash, ended } };
  const policy = active.policy;
  const approvers = request.approvals.length ? validApprovers(policy.approvers, approvalRequestOf(request), request.approvals) : new Set<string>();
  const decision = await ctx.policy.admit(request.keyId, id, { chain: content.transaction?.chain, requestId: request.requestId, rule: rule?.name ?? 'default' }, now, (usage) =>
    decide(
      policy,
      {
        keyId: request.keyId,
        ...(key.label ? { label: key.label } : {}),
        scheme: key.scheme,
        derivationPath: request.derivationPath,
        ...(content.transaction ? { transaction: content.transaction } : {}),
        approvers,
        deadline: request.deadline,
        requestId: request.requestId,
        now,
      },
      usage,
    ),
  );
  if (!decision.allowed) return refused('policy_denied', decision.rule, decision.reason, signed);
  const receipt: Receipt = {
    node: ctx.self,
    keyId: request.keyId,
    session: id,
    requestId: request.requestId,
    signed,
    decision: 'allowed',
    rule: decision.rule,
    policyVersion: active.version,
    policyHash: hex(active.hash),
    at: now.toISOString(),
  };
  await ctx.audit({
    event: 'policy',
    keyId: request.keyId,
    session: id,
    signers: request.signers,
    outcome: 'allowed',
    rule: decision.rule,
    policyVersion: active.version,
    policyHash: receipt.policyHash,
    ...(request.requestId ? { requestId: request.requestId } : {}),
    signedDigest: signed,
  });
  const bytes = receiptBytes(receipt);
  ctx.report({ type: 'receipt', session: Buffer.from(id, 'hex') as Bytes, receipt: bytes as Bytes, signature: ctx.signAsNode(receiptSigningInput(bytes)) as Bytes });
  return { ok: true, value: { toSign: content.bytes, policyHash: active.hash, ended } };
}
