/**
 * What every operation of the engine works with: the options it was built with, and the three
 * parts that hold its state (liveness, reputation, dispatch). One operation per module beside
 * this one; `engine.ts` puts them behind the SigningService interface.
 */
import { inferredCustody, type CoordinatorMessage, type Custody } from '../../cluster/control.ts';
import { partyId, sortedParties } from '../../protocol/core/ids.ts';
import type { KeyRegistry } from '../registry.ts';
import { ServiceError, type KeyInfo, type NodeId } from '../service.ts';
import type { Dispatcher } from './dispatch.ts';
import type { Liveness } from './liveness.ts';
import type { Reputation } from './reputation.ts';
import type { PolicyKeeper, PolicyStore } from './policy.ts';
import type { Administrators } from '../../cluster/transport/manifest.ts';
import type { PresignObserver, PresignPools, PresignSettings } from './presign-pool.ts';

export interface EngineOptions {
  /** Every node of the cluster manifest. */
  readonly nodes: readonly NodeId[];
  /** Sends to a node; rejects when it cannot be reached. */
  readonly send: (node: NodeId, message: CoordinatorMessage) => Promise<void>;
  readonly registry: KeyRegistry;
  /** Limits and periods; see ENGINE_DEFAULTS. */
  readonly attemptTimeoutMs?: number;
  readonly keygenTimeoutMs?: number;
  readonly heartbeatMs?: number;
  readonly livenessMs?: number;
  /** Threshold of new keys whose request names none (default: a majority of the key's nodes). */
  readonly defaultThreshold?: number;
  readonly maxSessions?: number;
  readonly suspectMs?: number;
  /** Who may sign policy versions (the cluster manifest's administrators). */
  readonly administrators?: Administrators;
  /** Presignature pools (presign-pool.ts); off unless `size` is set. */
  readonly presign?: Partial<PresignSettings>;
  /** Where the policy in force is kept across restarts (none: in memory). */
  readonly policyStore?: PolicyStore;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
  /**
   * Hooks for metrics: an invalid signature caught, a retry, a blamed node, and every sign
   * request's end (the key's scheme, or 'unknown' when there is no such key; 'ok' or the
   * failure's code; seconds), reported here because the engine is where the key is looked up.
   */
  readonly observe?: {
    invalidSignature?(): void;
    retry?(): void;
    blamed?(node: NodeId): void;
    signed?(scheme: string, outcome: string, seconds: number): void;
    presign?: PresignObserver;
  };
}

export interface EngineContext {
  readonly opts: EngineOptions;
  readonly liveness: Liveness;
  readonly reputation: Reputation;
  readonly dispatch: Dispatcher;
  readonly policy: PolicyKeeper;
  readonly presign: PresignPools;
}

export function requireKey(ctx: EngineContext, id: string): KeyInfo {
  const key = ctx.opts.registry.get(id);
  if (!key) throw new ServiceError('key_not_found', `no key ${id}`);
  return key;
}

/** A key's custody as its nodes keep it (the same rule `NodeRuntime.custodyOf` applies to older keys). */
export function custodyOf(ctx: EngineContext, key: KeyInfo): Custody {
  if (!key.custody) return inferredCustody(key.threshold, key.nodes.map(partyId), ctx.opts.nodes.map(partyId));
  return { ...key.custody, members: sortedParties(key.custody.members.map(partyId)) };
}

/** Throws `quorum_unavailable` naming the nodes of `nodes` that are offline, if any. */
export function requireOnline(ctx: EngineContext, nodes: readonly NodeId[], what: string): void {
  const offline = nodes.filter((n) => !ctx.liveness.isOnline(n));
  if (offline.length) throw new ServiceError('quorum_unavailable', `${what}; offline: ${offline.join(', ')}`);
}

/** Online holders that are not suspects: who may help (repair) or deal (resharing). */
export function trustedOnline(ctx: EngineContext, nodes: readonly NodeId[]): NodeId[] {
  return nodes.filter((n) => ctx.liveness.isOnline(n) && !ctx.reputation.isSuspect(n));
}

/** Every node must be in the cluster manifest. */
export function requireMembers(ctx: EngineContext, nodes: readonly NodeId[]): void {
  for (const n of nodes) if (!ctx.opts.nodes.includes(n)) throw new ServiceError('invalid_request', `node ${n} is not in the cluster`);
}

export function requireThreshold(threshold: number, parties: number): void {
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > parties) throw new ServiceError('invalid_request', `threshold must be an integer in [2, ${parties}]`);
}
