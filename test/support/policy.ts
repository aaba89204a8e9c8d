/**
 * Administrators and approvers for tests: Ed25519 keys, a signed policy proposal, approvals of a
 * sign request exactly as the nodes rebuild it.
 */
import { randomBytes } from 'node:crypto';
import { approvalRequest, signApproval } from '../../cluster/policy/approvals.ts';
import { signPolicyHash, type AdminSignature } from '../../cluster/policy/administrators.ts';
import { parsePolicy, policyBytes, policyHash, type Policy } from '../../cluster/policy/document.ts';
import type { Administrators } from '../../cluster/transport/manifest.ts';
import { ed25519PrivateKey, rawEd25519PublicKey } from '../../protocol/curves/curve25519-keys.ts';
import type { SignRequest } from '../../coordinator/service.ts';

export interface TestSigner {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function testSigner(name: string): TestSigner {
  const seed = new Uint8Array(randomBytes(32));
  return { name, seed, publicKey: rawEd25519PublicKey(ed25519PrivateKey(seed)) };
}

/** `threshold` of `count` administrators, as a manifest would list them. */
export function testAdministrators(count: number, threshold: number): { admins: TestSigner[]; administrators: Administrators } {
  const admins = Array.from({ length: count }, (_, i) => testSigner(`admin-${i + 1}`));
  return { admins, administrators: { threshold, members: new Map(admins.map((a) => [a.name, { id: a.name, identityKey: a.publicKey }])) } };
}

/** A policy's canonical bytes and the signatures of `by`. */
export function signedPolicy(policy: Policy, by: readonly TestSigner[]): { document: Uint8Array; signatures: AdminSignature[] } {
  const document = policyBytes(parsePolicy(policy));
  const hash = policyHash(document);
  return { document, signatures: by.map((a) => ({ admin: a.name, signature: signPolicyHash(a.seed, hash) })) };
}

/** `request` with `approvers`' approvals attached (a fresh request id and a deadline in 10 minutes unless given). */
export function approved(keyId: string, request: SignRequest, approvers: readonly TestSigner[], extra: { requestId?: string; deadline?: number } = {}): SignRequest {
  const full = { ...request, requestId: extra.requestId ?? request.requestId ?? `req-${randomBytes(8).toString('hex')}`, deadline: extra.deadline ?? request.deadline ?? Math.floor(Date.now() / 1000) + 600 };
  const r = approvalRequest(keyId, full);
  return { ...full, approvals: approvers.map((a) => ({ approver: a.name, signature: signApproval(a.seed, r) })) };
}

export const hexKey = (s: TestSigner) => Buffer.from(s.publicKey).toString('hex');
