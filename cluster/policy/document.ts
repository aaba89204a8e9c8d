/**
 * The signing policy: a versioned document that an M-of-K quorum of administrators signs (see
 * `administrators.ts`) and every node enforces on its own (SECURITY.md, "Policy"). The nodes
 * hold it, not the coordinator: whoever holds the coordinator's identity can ask, but cannot
 * change what the nodes agree to.
 *
 * A key's rule is the first whose selector matches it (by id or label); a key no rule selects
 * gets `default`. Amounts are decimal strings in the chain's smallest unit (wei, satoshi,
 * lamport), so they survive JSON and canonicalisation exactly.
 */
import { createHash } from 'node:crypto';
import { policySchema, type Policy, type PolicyRule } from '../../contract/policy.ts';
import { domainSeparated } from '../../contract/domain-separated.ts';
import { canonicalJson, type CanonicalValue } from './canonical.ts';

export { policySchema, type Policy, type PolicyRule };

export type Chain = 'ethereum' | 'bitcoin' | 'solana';
export const CHAINS: readonly Chain[] = ['ethereum', 'bitcoin', 'solana'];

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

/** Parses and checks a policy (its fields and the names it refers to). */
export function parsePolicy(json: unknown): Policy {
  const parsed = policySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PolicyError(`policy field \`${issue.path.join('.') || '(root)'}\`: ${issue.message}`);
  }
  const policy = parsed.data;
  const names = new Set<string>();
  for (const rule of policy.rules) {
    if (names.has(rule.name)) throw new PolicyError(`policy names rule ${rule.name} twice`);
    names.add(rule.name);
    for (const approver of rule.approvals?.from ?? []) {
      if (!policy.approvers?.[approver]) throw new PolicyError(`rule ${rule.name} names approver ${approver}, who is not in the policy's approvers`);
    }
    if (rule.approvals && rule.approvals.required > new Set(rule.approvals.from).size) {
      throw new PolicyError(`rule ${rule.name} requires ${rule.approvals.required} approvals from ${new Set(rule.approvals.from).size} approvers`);
    }
    if (rule.hours && rule.hours.from >= rule.hours.to) throw new PolicyError(`rule ${rule.name}: hours.from must be before hours.to`);
  }
  return policy;
}

/** The exact bytes administrators sign and nodes hash: canonical JSON (RFC 8785 for these values). */
export function policyBytes(policy: Policy): Uint8Array {
  return new TextEncoder().encode(canonicalJson(policy as unknown as CanonicalValue));
}

/** Reads policy bytes as sent: they must be the canonical form of a valid policy. */
export function policyFromBytes(bytes: Uint8Array): Policy {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new PolicyError(`policy is not JSON: ${(e as Error).message}`);
  }
  const policy = parsePolicy(json);
  if (!Buffer.from(policyBytes(policy)).equals(Buffer.from(bytes))) throw new PolicyError('policy bytes are not in canonical form');
  return policy;
}

/** 32 bytes that name a policy version everywhere: in sessions' transcripts, receipts and audit entries. */
export function policyHash(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(domainSeparated('mpc-signer/policy/v1', bytes)).digest());
}

/** Before any policy is applied every node allows what the coordinator signs (version 0). */
export const NO_POLICY_HASH = new Uint8Array(32);
