/**
 * Sign requests that wait for approvers. The coordinator keeps the request, shows approvers
 * exactly what they sign (the canonical request the nodes will rebuild), collects their
 * signatures, and signs once the governing rule's count is reached. It checks each approval
 * only to answer fast; the nodes check them all again. Kept in memory: a coordinator restart
 * drops waiting requests (their approvals can be sent again with a new request).
 */
import { randomUUID } from 'node:crypto';
import { approvalRequest, validApprovers, type ApprovalRequest } from '../../cluster/policy/approvals.ts';
import { ruleFor } from '../../cluster/policy/evaluate.ts';
import type { Policy } from '../../cluster/policy/document.ts';
import { ServiceError, type KeyInfo, type PendingStatus, type PendingView, type RequestContext, type SignRequest, type SignResult } from '../service.ts';

export type { PendingStatus, PendingView } from '../service.ts';

interface Pending {
  readonly key: KeyInfo;
  readonly request: SignRequest & { readonly requestId: string; readonly deadline: number };
  readonly approval: ApprovalRequest;
  readonly required: number;
  readonly approvals: Map<string, Uint8Array>;
  readonly rc: RequestContext;
  status: PendingStatus;
  result?: SignResult;
  error?: { code: string; message: string };
}

/** Longest an approval request may wait. */
const MAX_WAIT_S = 7 * 24 * 3600;
/** Finished requests are kept this long for their answer to be read. */
const KEEP_DONE_MS = 60 * 60_000;

export class PendingRequests {
  private readonly requests = new Map<string, Pending>();
  private readonly sign: (key: KeyInfo, request: SignRequest, rc: RequestContext) => Promise<SignResult>;

  constructor(sign: (key: KeyInfo, request: SignRequest, rc: RequestContext) => Promise<SignResult>) {
    this.sign = sign;
  }

  /** Registers a request that needs approvals under `policy`; its approvals may come later. */
  submit(policy: Policy | undefined, key: KeyInfo, request: SignRequest, rc: RequestContext): PendingView {
    this.sweep();
    const rule = policy && ruleFor(policy, key.id, key.label);
    if (!rule?.approvals) throw new ServiceError('invalid_request', `no rule asks approvals for key ${key.id}: sign it directly`);
    const now = Math.floor(Date.now() / 1000);
    const deadline = request.deadline ?? now + 3600;
    if (deadline <= now || deadline > now + MAX_WAIT_S) throw new ServiceError('invalid_request', `the deadline must be in the next ${MAX_WAIT_S / 86400} days`);
    const requestId = request.requestId ?? randomUUID();
    if (this.requests.has(requestId)) throw new ServiceError('invalid_request', `request ${requestId} exists already`);
    const full = { ...request, requestId, deadline };
    const approval = approvalRequest(key.id, full);
    const pending: Pending = { key, request: full, approval, required: rule.approvals.required, approvals: new Map(), rc, status: 'awaiting_approvals' };
    this.requests.set(requestId, pending);
    for (const a of request.approvals ?? []) this.add(policy, pending, a.approver, a.signature);
    return this.view(pending);
  }

  get(requestId: string): PendingView {
    return this.view(this.find(requestId));
  }

  /** An approver's signature: checked here against the policy's approvers, then kept; signing starts at the rule's count. */
  approve(policy: Policy | undefined, requestId: string, approver: string, signature: Uint8Array): PendingView {
    const pending = this.find(requestId);
    if (pending.status !== 'awaiting_approvals') throw new ServiceError('invalid_request', `request ${requestId} is ${pending.status.replace('_', ' ')}`);
    this.add(policy, pending, approver, signature);
    return this.view(pending);
  }

  private add(policy: Policy | undefined, pending: Pending, approver: string, signature: Uint8Array): void {
    if (pending.approval.deadline * 1000 < Date.now()) {
      pending.status = 'expired';
      throw new ServiceError('policy_denied', `request ${pending.approval.requestId} expired`);
    }
    const rule = policy && ruleFor(policy, pending.key.id, pending.key.label);
    if (!rule?.approvals?.from.includes(approver) || !validApprovers(policy?.approvers, pending.approval, [{ approver, signature }]).has(approver)) {
      throw new ServiceError('policy_denied', `not a valid approval of request ${pending.approval.requestId} by an approver of rule ${rule?.name ?? 'default'}`);
    }
    pending.approvals.set(approver, signature);
    pending.rc.emit({ type: 'approval', request: pending.approval.requestId, approver, have: pending.approvals.size, need: pending.required });
    if (pending.approvals.size >= pending.required) this.start(pending);
  }

  private start(pending: Pending): void {
    pending.status = 'signing';
    const approvals = [...pending.approvals].map(([approver, signature]) => ({ approver, signature }));
    const rc: RequestContext = { ...pending.rc, deadline: Math.max(Date.now() + 60_000, pending.rc.deadline) };
    void this.sign(pending.key, { ...pending.request, approvals }, rc).then(
      (result) => {
        pending.status = 'signed';
        pending.result = result;
      },
      (e: unknown) => {
        pending.status = 'failed';
        pending.error = e instanceof ServiceError ? { code: e.code, message: e.message } : { code: 'internal', message: 'internal error' };
      },
    );
  }

  private find(requestId: string): Pending {
    this.sweep();
    const pending = this.requests.get(requestId);
    if (!pending) throw new ServiceError('request_not_found', `no request ${requestId} waits here`);
    return pending;
  }

  private view(p: Pending): PendingView {
    return {
      requestId: p.approval.requestId,
      keyId: p.key.id,
      status: p.status,
      approval: p.approval,
      message: Buffer.from(p.request.message).toString('hex'),
      required: p.required,
      approvedBy: [...p.approvals.keys()].sort(),
      ...(p.result ? { result: p.result } : {}),
      ...(p.error ? { error: p.error } : {}),
    };
  }

  /** Marks requests past their deadline expired, and forgets finished ones after a while. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.requests) {
      if (p.status === 'awaiting_approvals' && p.approval.deadline * 1000 < now) p.status = 'expired';
      if (p.status !== 'awaiting_approvals' && p.status !== 'signing' && p.approval.deadline * 1000 + KEEP_DONE_MS < now) this.requests.delete(id);
    }
  }
}
