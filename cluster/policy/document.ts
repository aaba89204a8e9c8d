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
import { z } from 'zod';
import { SCHEMES, type Scheme } from '../../protocol/schemes/index.ts';
import { canonicalJson, domainSeparated, type CanonicalValue } from './canonical.ts';

const name = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'expected a lowercase name: letters, digits, _ . -');
const amount = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'expected a decimal amount in the smallest unit (wei, satoshi, lamport)');
const count = z.number().int().min(0).max(1_000_000_000);
const destinations = z.array(z.string().min(1).max(128)).max(100_000);
/** `m`, `m/0/7`, or a prefix with a trailing wildcard step: `m/0/*` (non-hardened steps only). */
const pathPattern = z.string().regex(/^m(\/(\d{1,10}|\*))*$/, 'expected a path such as m, m/0/1 or m/0/*');
const ed25519Key = z.string().regex(/^[0-9a-f]{64}$/, 'expected a 32-byte Ed25519 public key in lowercase hex');

/** Limits on what a transaction of one chain may do; any of them makes transactions required. */
const chainLimits = {
  /** Only these destinations (addresses as the chain writes them); absent: any not denied. */
  allow: destinations.optional(),
  deny: destinations.optional(),
  /** Most a single transaction may send (to destinations other than the key's own addresses). */
  maxValue: amount.optional(),
  /** Most the transactions this node signed for the key may send in 24 h. */
  maxValuePerDay: amount.optional(),
};

const ruleSchema = z.strictObject({
  name,
  /** Which keys the rule governs; absent: every key. */
  keys: z.strictObject({ ids: z.array(z.string().min(1).max(128)).max(10_000).optional(), labels: z.array(z.string().min(1).max(64)).max(1000).optional() }).optional(),
  /** Refuse every request under this rule (a frozen key). */
  deny: z.literal(true).optional(),
  schemes: z.array(z.enum(SCHEMES as unknown as [Scheme, ...Scheme[]])).min(1).optional(),
  /** Allowed derivation paths; absent: any. The root key is `m`. */
  paths: z.array(pathPattern).min(1).max(1000).optional(),
  /** Signatures this node takes part in for the key, per minute and per 24 h. */
  rate: z.strictObject({ perMinute: count.optional(), perDay: count.optional() }).optional(),
  /** UTC hours [from, to) and weekdays (0 = Sunday) in which signing is allowed. */
  hours: z.strictObject({ from: z.number().int().min(0).max(23), to: z.number().int().min(1).max(24), days: z.array(z.number().int().min(0).max(6)).min(1).optional() }).optional(),
  /** `required` distinct approvers among `from` (names in the policy's `approvers`) must sign the request. */
  approvals: z.strictObject({ required: z.number().int().min(1).max(32), from: z.array(name).min(1).max(64) }).optional(),
  ethereum: z.strictObject({ chainIds: z.array(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)).min(1).optional(), ...chainLimits }).optional(),
  bitcoin: z.strictObject({ network: z.enum(['mainnet', 'testnet', 'signet', 'regtest']).optional(), ...chainLimits }).optional(),
  solana: z.strictObject(chainLimits).optional(),
});

export const policySchema = z.strictObject({
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** Approvers' Ed25519 public keys by name. */
  approvers: z.record(name, ed25519Key).optional(),
  rules: z.array(ruleSchema).max(1000),
  /** For keys no rule selects. */
  default: z.enum(['allow', 'deny']),
  /**
   * Where shares may live: each node's provider vendor (aws, gcp, azure, zymbit, local, or
   * pkcs11:<model>). A committee in which one vendor would protect `threshold` or more shares
   * is refused at key generation and resharing, unless allowed here.
   */
  placement: z.strictObject({ vendors: z.record(z.string().regex(/^[1-9][0-9]{0,4}$/), z.string().regex(/^[a-z0-9][a-z0-9:_.-]{0,63}$/)), allowSingleVendorQuorum: z.boolean().optional() }).optional(),
});

export type Policy = z.infer<typeof policySchema>;
export type PolicyRule = z.infer<typeof ruleSchema>;
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
