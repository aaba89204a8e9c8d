/**
 * The decision a node makes before its share is used: which rule governs the key, and whether
 * the request, as this node itself understood it (its own digest, its own decoding of the
 * transaction, its own count of what it signed), keeps to it. Pure: the node gathers the facts,
 * this decides, the node records the decision.
 */
import { parsePath } from '../../protocol/derive.ts';
import type { Scheme } from '../../protocol/schemes/index.ts';
import { CHAINS, type Chain, type Policy, type PolicyRule } from './document.ts';

/** What a decoded transaction does, as a node's decoder read it. */
export interface TransactionFacts {
  readonly chain: Chain;
  /** Ethereum: the EIP-155 chain id. */
  readonly chainId?: number;
  /** Bitcoin: the network whose address prefixes the destinations were written with. */
  readonly network?: string;
  /** Where value goes, the key's own addresses (change) left out. */
  readonly transfers: readonly { readonly to: string; readonly value: bigint }[];
  /** What the decoder could not account for (see chains.ts): refused under a rule with limits for the chain. */
  readonly opaque?: readonly string[];
}

export interface SignFacts {
  readonly keyId: string;
  readonly label?: string;
  readonly scheme: Scheme;
  /** '' for the root key. */
  readonly derivationPath: string;
  readonly transaction?: TransactionFacts;
  /** Approvers whose signature over this very request verified (see approvals.ts). */
  readonly approvers: ReadonlySet<string>;
  /** Unix seconds; 0 when the request has none. */
  readonly deadline: number;
  readonly requestId: string;
  readonly now: Date;
}

/** What this node signed for the key lately (its durable usage ledger). */
export interface Usage {
  readonly lastMinute: number;
  readonly lastDay: number;
  /** Value sent by transactions of this chain in the last 24 h, in its smallest unit. */
  readonly valueLastDay: bigint;
}

export type Decision =
  | { readonly allowed: true; readonly rule: string; readonly value: bigint }
  | { readonly allowed: false; readonly rule: string; readonly reason: string };

/** The rule governing a key: the first whose selector matches; undefined for the default. */
export function ruleFor(policy: Policy, keyId: string, label: string | undefined): PolicyRule | undefined {
  return policy.rules.find((r) => !r.keys || r.keys.ids?.includes(keyId) || (label !== undefined && r.keys.labels?.includes(label)));
}

/**
 * How a key's PSBT outputs are written as addresses: its rule's Bitcoin network (a PSBT does not
 * say), mainnet otherwise. The coordinator and every node read transactions with it.
 */
export function bitcoinNetworkFor(policy: Policy | undefined, keyId: string, label: string | undefined): 'mainnet' | 'testnet' | 'signet' | 'regtest' {
  return (policy && ruleFor(policy, keyId, label)?.bitcoin?.network) || 'mainnet';
}

/** Whether `path` is one of `patterns` (`*` stands for any one step). */
export function pathAllowed(patterns: readonly string[], path: string): boolean {
  const steps = parsePath(path || 'm');
  return patterns.some((p) => {
    const want = p.split('/').slice(1);
    return want.length === steps.length && want.every((w, i) => w === '*' || Number(w) === steps[i]);
  });
}

export function decide(policy: Policy, facts: SignFacts, usage: Usage): Decision {
  const rule = ruleFor(policy, facts.keyId, facts.label);
  const transactionValue = facts.transaction?.transfers.reduce((sum, t) => sum + t.value, 0n) ?? 0n;
  if (!rule) {
    return policy.default === 'allow' ? { allowed: true, rule: 'default', value: transactionValue } : { allowed: false, rule: 'default', reason: 'no rule governs this key and the policy denies by default' };
  }
  const refuse = (reason: string): Decision => ({ allowed: false, rule: rule.name, reason });
  if (rule.deny) return refuse('the rule denies every request');
  if (rule.schemes && !rule.schemes.includes(facts.scheme)) return refuse(`scheme ${facts.scheme} is not allowed`);
  if (rule.paths && !pathAllowed(rule.paths, facts.derivationPath)) return refuse(`derivation path ${facts.derivationPath || 'm'} is not allowed`);
  if (rule.hours) {
    const hour = facts.now.getUTCHours();
    if (hour < rule.hours.from || hour >= rule.hours.to || (rule.hours.days && !rule.hours.days.includes(facts.now.getUTCDay()))) {
      return refuse(`signing is allowed ${rule.hours.from}:00–${rule.hours.to}:00 UTC${rule.hours.days ? ` on days ${rule.hours.days.join(',')}` : ''} only`);
    }
  }
  const chains = CHAINS.filter((c) => rule[c]);
  if (chains.length) {
    const tx = facts.transaction;
    if (!tx) return refuse(`only ${chains.join(' or ')} transactions may be signed under this rule, not a bare digest`);
    const limits = rule[tx.chain];
    if (!limits) return refuse(`${tx.chain} transactions are not allowed`);
    if (tx.opaque?.length) return refuse(`the node cannot tell where this transaction sends value: ${tx.opaque.join('; ')}`);
    if (tx.chain === 'ethereum' && rule.ethereum?.chainIds && !rule.ethereum.chainIds.includes(tx.chainId ?? -1)) return refuse(`chain id ${tx.chainId ?? 'none'} is not allowed`);
    if (tx.chain === 'bitcoin' && rule.bitcoin?.network && tx.network !== rule.bitcoin.network) return refuse(`bitcoin network ${tx.network} is not allowed`);
    // Ethereum addresses compare without their EIP-55 checksum case.
    const same = tx.chain === 'ethereum' ? (a: string, b: string) => a.toLowerCase() === b.toLowerCase() : (a: string, b: string) => a === b;
    for (const t of tx.transfers) {
      if (limits.deny?.some((d) => same(d, t.to))) return refuse(`destination ${t.to} is denied`);
      if (limits.allow && !limits.allow.some((a) => same(a, t.to))) return refuse(`destination ${t.to} is not on the allow list`);
    }
    if (limits.maxValue !== undefined && transactionValue > BigInt(limits.maxValue)) return refuse(`value ${transactionValue} is over the per-transaction cap ${limits.maxValue}`);
    if (limits.maxValuePerDay !== undefined && usage.valueLastDay + transactionValue > BigInt(limits.maxValuePerDay)) {
      return refuse(`value ${transactionValue} would take the last 24 h to ${usage.valueLastDay + transactionValue}, over the daily cap ${limits.maxValuePerDay}`);
    }
  }
  if (rule.rate?.perMinute !== undefined && usage.lastMinute + 1 > rule.rate.perMinute) return refuse(`rate limit: ${rule.rate.perMinute} signatures per minute`);
  if (rule.rate?.perDay !== undefined && usage.lastDay + 1 > rule.rate.perDay) return refuse(`rate limit: ${rule.rate.perDay} signatures per 24 h`);
  if (rule.approvals) {
    if (!facts.requestId) return refuse('approvals are required, and the request has no request id');
    if (!facts.deadline) return refuse('approvals are required, and the request has no deadline');
    if (facts.deadline * 1000 < facts.now.getTime()) return refuse('the approvals have expired (deadline passed)');
    const from = new Set(rule.approvals.from);
    const have = [...facts.approvers].filter((a) => from.has(a)).length;
    if (have < rule.approvals.required) return refuse(`${rule.approvals.required} approvals required, ${have} valid`);
  }
  return { allowed: true, rule: rule.name, value: transactionValue };
}
