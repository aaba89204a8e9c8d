/**
 * What a node keeps for its policy, in its own ledger beside the shares: the policy version it
 * enforces (with the administrators' signatures that made it), what it signed for each key
 * lately (rate and value limits), and the request ids it signed (approvals are single-use).
 *
 * Admission is check-then-record under the key's lock, in one synced batch: many sessions run
 * at once by a coordinator the attacker holds cannot all pass a limit that has room for one, and
 * a restart keeps every count.
 */
import type { AdminSignature } from '../../cluster/policy/administrators.ts';
import { NO_POLICY_HASH, policyFromBytes, policyHash, type Chain, type Policy } from '../../cluster/policy/document.ts';
import type { Decision, Usage } from '../../cluster/policy/evaluate.ts';
import type { KeyValueBackend } from './backend.ts';
import { KeyedLock } from './keyed-lock.ts';

const DAY_MS = 24 * 60 * 60_000;
const CURRENT = 'policy!current';
const pad = (ms: number) => ms.toString().padStart(15, '0');
const usagePrefix = (keyId: string) => `usage!${keyId}!`;
const requestKey = (requestId: string) => `request!${requestId}`;
const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const decode = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T;

/** The policy a node enforces; version 0 (no policy) allows what the coordinator signs. */
export interface ActivePolicy {
  readonly version: number;
  readonly hash: Uint8Array;
  readonly policy?: Policy;
  readonly bytes?: Uint8Array;
  readonly signatures: readonly AdminSignature[];
}

interface StoredPolicy {
  bytes: string;
  signatures: { admin: string; signature: string; mldsaSignature?: string }[];
}

interface UsageRecord {
  chain?: Chain;
  value: string;
}

/** Where a request id stands on this node. */
type RequestState = { state: 'started'; session: string } | { state: 'completed'; session: string };

export class PolicyLedger {
  private readonly db: KeyValueBackend;
  private current: ActivePolicy = { version: 0, hash: NO_POLICY_HASH, signatures: [] };
  private loaded = false;
  /** Serialises every read-modify-write of one key's records. */
  private readonly lock = new KeyedLock();
  /** Request ids with a session running here: a second session of the same request waits its turn or is refused. */
  private readonly running = new Set<string>();

  constructor(db: KeyValueBackend) {
    this.db = db;
  }

  /** The policy in force (read from disk once). */
  async active(): Promise<ActivePolicy> {
    if (!this.loaded) {
      const raw = await this.db.get(CURRENT);
      if (raw) {
        const stored = decode<StoredPolicy>(raw);
        const bytes = Buffer.from(stored.bytes, 'base64');
        const policy = policyFromBytes(bytes);
        this.current = {
          version: policy.version,
          hash: policyHash(bytes),
          policy,
          bytes,
          signatures: stored.signatures.map((s) => ({ admin: s.admin, signature: Buffer.from(s.signature, 'hex'), ...(s.mldsaSignature ? { mldsaSignature: Buffer.from(s.mldsaSignature, 'hex') } : {}) })),
        };
      }
      this.loaded = true;
    }
    return this.current;
  }

  /**
   * Makes `bytes` the policy in force, durably, if its version is higher than the current one.
   * The caller has checked the administrators' signatures.
   */
  async apply(bytes: Uint8Array, signatures: readonly AdminSignature[]): Promise<{ ok: true; active: ActivePolicy } | { ok: false; reason: string }> {
    return this.lock.run('policy', async () => {
      const policy = policyFromBytes(bytes);
      const current = await this.active();
      if (policy.version <= current.version) {
        return { ok: false as const, reason: `policy version ${policy.version} is not above the version in force (${current.version})` };
      }
      const stored: StoredPolicy = {
        bytes: Buffer.from(bytes).toString('base64'),
        signatures: signatures.map((s) => ({ admin: s.admin, signature: Buffer.from(s.signature).toString('hex'), ...(s.mldsaSignature ? { mldsaSignature: Buffer.from(s.mldsaSignature).toString('hex') } : {}) })),
      };
      await this.db.put(CURRENT, encode(stored), { sync: true });
      this.current = { version: policy.version, hash: policyHash(bytes), policy, bytes: Uint8Array.from(bytes), signatures };
      return { ok: true as const, active: this.current };
    });
  }

  /**
   * Decides a signature under the key's lock and, when allowed, records it durably before
   * answering: the usage entry and (with a request id) the request's start, in one synced batch.
   * `decide` sees this node's usage of the key; a refusal records nothing. `rule` names the
   * governing rule in a refusal of a request id already spent.
   */
  async admit(
    keyId: string,
    session: string,
    request: { readonly chain: Chain | undefined; readonly requestId: string; readonly rule: string },
    now: Date,
    decide: (usage: Usage) => Decision,
  ): Promise<Decision> {
    const { chain, requestId, rule } = request;
    return this.lock.run(`key!${keyId}`, async () => {
      if (requestId) {
        if (this.running.has(requestId)) return { allowed: false, rule, reason: `request ${requestId} is being signed here in another session` };
        const raw = await this.db.get(requestKey(requestId));
        const state = raw ? decode<RequestState>(raw) : undefined;
        if (state?.state === 'completed') return { allowed: false, rule, reason: `request ${requestId} was signed already: its approvals are used` };
      }
      const usage = await this.usage(keyId, chain, now.getTime());
      const decision = decide(usage);
      if (!decision.allowed) return decision;
      const record: UsageRecord = { ...(chain ? { chain } : {}), value: decision.value.toString() };
      const stale: string[] = [];
      for await (const k of this.db.keys({ gte: usagePrefix(keyId), lt: usagePrefix(keyId) + pad(now.getTime() - DAY_MS) })) stale.push(k);
      await this.db.batch(
        [
          { type: 'put', key: `${usagePrefix(keyId)}${pad(now.getTime())}!${session}`, value: encode(record) },
          ...(requestId ? [{ type: 'put' as const, key: requestKey(requestId), value: encode({ state: 'started', session } satisfies RequestState) }] : []),
          ...stale.map((key) => ({ type: 'del' as const, key })),
        ],
        { sync: true },
      );
      if (requestId) this.running.add(requestId);
      return decision;
    });
  }

  /** The session of `requestId` ended here: completed (its approvals are spent) or not (a retry may use them). */
  async requestEnded(requestId: string, session: string, completed: boolean): Promise<void> {
    this.running.delete(requestId);
    if (completed) await this.db.put(requestKey(requestId), encode({ state: 'completed', session } satisfies RequestState), { sync: true });
  }

  private async usage(keyId: string, chain: Chain | undefined, now: number): Promise<Usage> {
    let lastMinute = 0;
    let lastDay = 0;
    let valueLastDay = 0n;
    for await (const [k, v] of this.db.entries({ gte: usagePrefix(keyId) + pad(now - DAY_MS), lt: usagePrefix(keyId) + '~' })) {
      const at = Number(k.slice(usagePrefix(keyId).length).split('!')[0]);
      const record = decode<UsageRecord>(v);
      lastDay++;
      if (at > now - 60_000) lastMinute++;
      if (chain && record.chain === chain) valueLastDay += BigInt(record.value);
    }
    return { lastMinute, lastDay, valueLastDay };
  }

}
