/**
 * The signing policy document (what `POST /v1/policy` takes and `GET /v1/policy` shows): the
 * schema every node parses a version with (cluster/policy/document.ts). Amounts are decimal
 * strings in the chain's smallest unit (wei, satoshi, lamport).
 */
import { z } from 'zod';
import { SCHEMES, type Scheme } from '../protocol/schemes/index.ts';

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

export const policySchema = z
  .strictObject({
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
  })
  .meta({ id: 'Policy' });

export type Policy = z.infer<typeof policySchema>;
export type PolicyRule = Policy['rules'][number];
