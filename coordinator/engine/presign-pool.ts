/**
 * The coordinator's presignature pools: per key and signing key (root, a derivation path, a
 * Taproot spend), presignatures its nodes made ahead, each for one signer set. A sign request
 * that finds one sends it with the request and the nodes answer in one flight; one that finds
 * none signs in full, as before, and makes that signing key's pool fill up for next time.
 *
 * Refills run in the background, never on a request's path: when a pool falls below its
 * low-water mark it is topped up to its size, one presigning command at a time per pool (FROST:
 * a batch of nonce commitments per signer; DKLs23: a session making up to four), at most
 * `concurrency` across all pools.
 *
 * The pool is the coordinator's list of what it may ask for, never a guarantee: every node keeps
 * its own part, uses it once and refuses whatever it no longer holds (node/store/presignatures.ts),
 * and a failed presigned attempt falls back to full signing. Entries go when the key's epoch
 * changes, when a signer restarted (its parts died with its process), and when used.
 */
import { partyId } from '../../protocol/core/ids.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import { MAX_PRESIGN_BATCH, taprootField, type NonceCommitmentsWire, type PresignatureRef } from '../../cluster/control.ts';
import { schemeOf, type TaprootSpend } from '../../protocol/schemes/index.ts';
import { ServiceError, type KeyInfo, type NodeId } from '../service.ts';
import type { KeyRegistry } from '../registry.ts';
import type { Dispatcher } from './dispatch.ts';
import type { Liveness } from './liveness.ts';
import type { Reputation } from './reputation.ts';

/** What the pools use of the engine. */
export interface PresignDeps {
  readonly registry: KeyRegistry;
  readonly dispatch: Dispatcher;
  readonly liveness: Liveness;
  readonly reputation: Reputation;
  readonly attemptTimeoutMs: number;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

export interface PresignSettings {
  /** Presignatures kept per signing key (0: no pools, every request signs in full). */
  readonly size: number;
  /** A pool below this is refilled to `size` in the background (default: half the size). */
  readonly lowWater: number;
  /** Presigning commands in flight at once, across all pools. */
  readonly concurrency: number;
  /** Signing keys (root, path, Taproot spend) a key may have pools for; the least recently used goes. */
  readonly targetsPerKey: number;
}

export const PRESIGN_DEFAULTS = { size: 0, concurrency: 2, targetsPerKey: 8 } as const satisfies Omit<PresignSettings, 'lowWater'>;

/** The signing key a request selects: what a presignature is bound to besides key and signers. */
export interface SigningTarget {
  readonly keyId: string;
  readonly derivationPath: string;
  readonly taproot?: TaprootSpend;
}

interface Entry {
  readonly session: Bytes;
  readonly index: number;
  readonly epoch: number;
  readonly signers: readonly NodeId[];
  /** FROST: every signer's commitments, in signer order; DKLs23: none. */
  readonly commitments: readonly NonceCommitmentsWire[];
}

interface Pool {
  readonly target: SigningTarget;
  readonly entries: Entry[];
  refilling: boolean;
  /** A refill failed: no new one until its backoff timer ends (requests do not trigger one meanwhile). */
  backingOff: boolean;
  usedAt: number;
  /**
   * Requests seen for this signing key. A path or Taproot spend gets presignatures only from its
   * second request on: one-off signing keys never cost a refill (nor can a client that cycles
   * through paths make the nodes presign for each of them).
   */
  requests: number;
}

export interface PoolStats {
  held: number;
  low: number;
}

/** What a sign attempt sends: the presignature, and the signers it was made for. */
export interface PoolHit {
  readonly signers: readonly NodeId[];
  readonly ref: PresignatureRef;
}

export interface PresignObserver {
  hit?(scheme: string): void;
  miss?(scheme: string): void;
  refilled?(scheme: string, seconds: number, made: number): void;
}

const targetId = (t: SigningTarget) => `${t.derivationPath}|${t.taproot ? Buffer.from(t.taproot.merkleRoot ?? []).toString('hex') || 'bip86' : '-'}`;
const REFILL_BACKOFF_MS = 2000;

export class PresignPools {
  private readonly ctx: () => PresignDeps;
  private readonly settings: PresignSettings;
  private readonly observe: PresignObserver;
  /** keyId → target id → pool. */
  private readonly pools = new Map<string, Map<string, Pool>>();
  private readonly queue: Pool[] = [];
  private running = 0;
  private stopped = false;

  constructor(ctx: () => PresignDeps, settings: Partial<PresignSettings>, observe: PresignObserver = {}) {
    this.ctx = ctx;
    const size = settings.size ?? PRESIGN_DEFAULTS.size;
    this.settings = { ...PRESIGN_DEFAULTS, ...settings, lowWater: settings.lowWater ?? Math.ceil(size / 2) };
    this.observe = observe;
  }

  get enabled(): boolean {
    return this.settings.size > 0;
  }

  /**
   * Per scheme (metrics): unused presignatures the coordinator knows of, and pools that want
   * presignatures but hold fewer than the low-water mark. A pool stays low only while its refill
   * runs, fails, or cannot keep up with the requests, so one low for long is worth an alert.
   */
  stats(): Map<string, PoolStats> {
    const out = new Map<string, PoolStats>();
    for (const [keyId, targets] of this.pools) {
      const scheme = this.ctx().registry.get(keyId)?.scheme ?? 'unknown';
      const stats = out.get(scheme) ?? { held: 0, low: 0 };
      for (const p of targets.values()) {
        stats.held += p.entries.length;
        if (this.wantsPresignatures(p) && this.isLow(p)) stats.low++;
      }
      out.set(scheme, stats);
    }
    return out;
  }

  /** Presignatures held for one signing key (tests, the CLI). */
  size(target: SigningTarget): number {
    return this.pools.get(target.keyId)?.get(targetId(target))?.entries.length ?? 0;
  }

  /**
   * A presignature for `target` whose signers are all `usable`, removed from the pool; undefined
   * when there is none (a miss: the pool is registered and filled in the background).
   */
  take(key: KeyInfo, target: SigningTarget, usable: (node: NodeId) => boolean): PoolHit | undefined {
    if (!this.enabled) return undefined;
    const pool = this.pool(key, target);
    pool.usedAt = Date.now();
    pool.requests++;
    const epoch = key.epoch ?? 0;
    // Entries of another epoch can never be used again; drop them on the way.
    for (let i = pool.entries.length - 1; i >= 0; i--) if (pool.entries[i]!.epoch !== epoch) pool.entries.splice(i, 1);
    const at = pool.entries.findIndex((e) => e.signers.every(usable));
    const entry = at >= 0 ? pool.entries.splice(at, 1)[0] : undefined;
    if (entry) this.observe.hit?.(key.scheme);
    else this.observe.miss?.(key.scheme);
    this.maybeRefill(pool);
    return entry && { signers: entry.signers, ref: { session: entry.session, index: entry.index, commitments: entry.commitments } };
  }

  /** Fills the root signing key's pool of a new key. */
  warm(key: KeyInfo): void {
    if (this.enabled) this.maybeRefill(this.pool(key, { keyId: key.id, derivationPath: '' }));
  }

  /** Every pool of `keyId` is void: its epoch changed (they refill at the new one), or the key is going. */
  voidKey(keyId: string): void {
    const targets = this.pools.get(keyId);
    if (!targets) return;
    for (const p of targets.values()) {
      p.entries.length = 0;
      p.backingOff = false;
      this.maybeRefill(p);
    }
  }

  /** Forgets a destroyed key's pools altogether. */
  forgetKey(keyId: string): void {
    this.pools.delete(keyId);
  }

  /** Drops every entry `node` signs in: it no longer holds its parts (it restarted, or said so). */
  forgetNode(node: NodeId): void {
    for (const targets of this.pools.values()) {
      for (const p of targets.values()) {
        for (let i = p.entries.length - 1; i >= 0; i--) if (p.entries[i]!.signers.includes(node)) p.entries.splice(i, 1);
        this.maybeRefill(p);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private pool(key: KeyInfo, target: SigningTarget): Pool {
    let targets = this.pools.get(key.id);
    if (!targets) this.pools.set(key.id, (targets = new Map()));
    const id = targetId(target);
    let pool = targets.get(id);
    if (!pool) {
      if (targets.size >= this.settings.targetsPerKey) {
        const oldest = [...targets.entries()].sort((a, b) => a[1].usedAt - b[1].usedAt)[0]!;
        targets.delete(oldest[0]);
      }
      targets.set(id, (pool = { target, entries: [], refilling: false, backingOff: false, usedAt: Date.now(), requests: 0 }));
    }
    return pool;
  }

  private isLow(pool: Pool): boolean {
    return pool.entries.length < Math.max(1, this.settings.lowWater);
  }

  /** The root signing key's pool always; a path or Taproot spend's from its second request on. */
  private wantsPresignatures(pool: Pool): boolean {
    const root = pool.target.derivationPath === '' && !pool.target.taproot;
    return root || pool.requests >= 2;
  }

  private maybeRefill(pool: Pool): void {
    if (this.stopped || pool.refilling || pool.backingOff || !this.isLow(pool) || !this.wantsPresignatures(pool)) return;
    pool.refilling = true;
    this.queue.push(pool);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.settings.concurrency && this.queue.length) {
      const pool = this.queue.shift()!;
      this.running++;
      void this.refill(pool).finally(() => {
        this.running--;
        pool.refilling = false;
        this.pump();
      });
    }
  }

  /** Tops `pool` up to its size, one presigning command after another; stops at the first failure. */
  private async refill(pool: Pool): Promise<void> {
    const ctx = this.ctx();
    while (!this.stopped && pool.entries.length < this.settings.size) {
      const key = ctx.registry.get(pool.target.keyId);
      if (!key || key.status === 'disabled' || !this.pools.get(key.id)?.has(targetId(pool.target))) return;
      const started = performance.now();
      try {
        const made = await this.presign(ctx, key, pool.target, this.settings.size - pool.entries.length);
        // A refresh may have moved the key on meanwhile: such entries would only be refused.
        if ((ctx.registry.get(key.id)?.epoch ?? 0) !== (key.epoch ?? 0)) return;
        pool.entries.push(...made);
        this.observe.refilled?.(key.scheme, (performance.now() - started) / 1000, made.length);
      } catch (e) {
        pool.backingOff = true;
        ctx.log?.('presign_failed', { keyId: key.id, error: (e as Error).message });
        // The timer alone ends the backoff (a deadline compared with Date.now() missed it when the
        // timer fired a millisecond early), and retries even when no request comes to trigger it.
        setTimeout(() => {
          pool.backingOff = false;
          this.maybeRefill(pool);
        }, REFILL_BACKOFF_MS).unref();
        return;
      }
    }
  }

  /** One presigning command to a quorum of online signers; the entries it made. */
  private async presign(ctx: PresignDeps, key: KeyInfo, target: SigningTarget, wanted: number): Promise<Entry[]> {
    const signers = ctx.reputation.pickQuorum(key, key.nodes.filter((n) => ctx.liveness.isOnline(n) && !ctx.reputation.isSuspect(n)), new Set());
    const support = schemeOf(key.scheme).adapter.presign;
    const interactive = support.kind === 'interactive';
    // One command serves one signer set. Batches are kept to a quarter of the pool so a pool holds
    // several sets and requests keep spreading over the nodes as full signing does; DKLs23 makes
    // a few per session (its instances in lockstep), FROST's nodes make their nonces alone.
    const count = Math.min(wanted, interactive ? support.maxPerSession : MAX_PRESIGN_BATCH, Math.max(1, Math.ceil(this.settings.size / 4)));
    const epoch = key.epoch ?? 0;
    const command = ctx.dispatch.command('presign', {
      keyId: key.id,
      scheme: key.scheme,
      epoch,
      signers: signers.map(partyId),
      derivationPath: target.derivationPath,
      taproot: taprootField(target.taproot),
      count,
    });
    const commitments = new Map<NodeId, readonly NonceCommitmentsWire[]>();
    const timeoutMs = ctx.attemptTimeoutMs;
    await ctx.dispatch.collect(command, signers, Date.now() + timeoutMs, `presigning did not finish within ${timeoutMs} ms`, (node, report, settle) => {
      if (report.type === 'failed') return settle.fail(new ServiceError('internal', `node ${node}: ${report.code}: ${report.reason}`));
      if (report.type !== 'presign_done') return;
      if (!interactive && report.commitments.length !== count) return settle.fail(new ServiceError('internal', `node ${node} made ${report.commitments.length} of ${count} presignatures`));
      commitments.set(node, report.commitments);
      if (commitments.size === signers.length) settle.finish();
    });
    const session = Buffer.from(command.session, 'hex') as Bytes;
    return Array.from({ length: count }, (_, index) => ({
      session,
      index,
      epoch,
      signers,
      commitments: interactive ? [] : signers.map((n) => commitments.get(n)![index]!),
    }));
  }
}
