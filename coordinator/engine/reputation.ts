/**
 * What the coordinator remembers against nodes, and how it picks quorums from it. The
 * coordinator cannot check a node's abort report (a byzantine aggregator could name honest
 * signers), so an accusation only makes a suspect once two different nodes made it within the
 * suspicion window; until then both sides of the dispute merely count as recent failures,
 * which weigh less as they age (5 s half-life) and are forgotten after a minute, so a node that
 * recovered is tried again.
 */
import { sortedParties, type PartyId } from '../../protocol/core/ids.ts';
import { ServiceError, type KeyInfo, type NodeId } from '../service.ts';

export interface ReputationOptions {
  readonly suspectMs: number;
  readonly onSuspect?: (node: NodeId) => void;
}

/** How long a failed attempt counts against a node when quorums are chosen. */
const FAILURE_MEMORY_MS = 60_000;
/** Failed sign attempts whose late abort reports still count as accusations. */
const LATE_REPORT_MS = 30_000;

export class Reputation {
  private readonly opts: ReputationOptions;
  private readonly suspects = new Map<NodeId, number>();
  /** Who named whom in abort reports, and when (see `blame`). */
  private readonly accusations = new Map<NodeId, Map<NodeId, number>>();
  /** Times at which each node took part in a failed attempt (last minute only). */
  private readonly recentFailures = new Map<NodeId, number[]>();
  /**
   * Failed sign attempts whose late abort reports still count: an attempt settles on the first
   * report, but the other signers' checks name the culprit too, and it takes two accusers.
   */
  private readonly endedAttempts = new Map<string, { readonly nodes: readonly NodeId[]; readonly until: number }>();

  constructor(opts: ReputationOptions) {
    this.opts = opts;
  }

  /**
   * Records that `accuser` named `culprits`; a node named by two different accusers within the
   * window becomes a suspect and is left out of quorums.
   */
  blame(culprits: readonly PartyId[] | readonly NodeId[], accuser?: NodeId): void {
    const now = Date.now();
    const window = this.opts.suspectMs;
    for (const c of culprits) {
      if (c === accuser) continue;
      const accusers = this.accusations.get(c) ?? new Map<NodeId, number>();
      for (const [a, at] of accusers) if (at < now - window) accusers.delete(a);
      accusers.set(accuser ?? -1, now);
      this.accusations.set(c, accusers);
      if (accusers.size >= 2 && !this.isSuspect(c, now)) {
        this.suspects.set(c, now + window);
        this.opts.onSuspect?.(c);
      }
    }
  }

  isSuspect(node: NodeId, now = Date.now()): boolean {
    return (this.suspects.get(node) ?? 0) > now;
  }

  /** Nodes blamed by a protocol abort, with the time until which they are avoided. */
  suspectedNodes(): Map<NodeId, number> {
    const now = Date.now();
    return new Map([...this.suspects].filter(([, until]) => until > now));
  }

  noteFailure(node: NodeId): void {
    const now = Date.now();
    const times = (this.recentFailures.get(node) ?? []).filter((t) => t > now - FAILURE_MEMORY_MS);
    times.push(now);
    this.recentFailures.set(node, times.slice(-100));
  }

  /** A quorum that signed, or a node that came back, starts with a clean record. */
  clearFailures(node: NodeId): void {
    this.recentFailures.delete(node);
  }

  /**
   * How much recent failures weigh against a node when quorums are chosen (0: none). Only the
   * last minute counts: a decayed weight never reaches 0 by itself, and a node with any weight
   * loses every tie to nodes without, so it would never be tried again while the others sign.
   */
  failureWeight(node: NodeId): number {
    const now = Date.now();
    return (this.recentFailures.get(node) ?? []).filter((t) => t > now - FAILURE_MEMORY_MS).reduce((acc, t) => acc + Math.pow(0.5, (now - t) / 5000), 0);
  }

  /** A failed sign attempt: its signers' late abort reports still count as accusations for a while. */
  attemptFailed(session: string, nodes: readonly NodeId[]): void {
    const now = Date.now();
    for (const [id, a] of this.endedAttempts) if (a.until <= now) this.endedAttempts.delete(id);
    this.endedAttempts.set(session, { nodes, until: now + LATE_REPORT_MS });
  }

  /** A failure report that came after its attempt settled: an accusation if the attempt is recent. */
  lateFailure(session: string, node: NodeId, culprits: readonly PartyId[]): void {
    const ended = this.endedAttempts.get(session);
    if (ended && ended.until > Date.now() && ended.nodes.includes(node)) this.blame(culprits.filter((c) => ended.nodes.includes(c as NodeId)), node);
  }

  /**
   * Chooses `t` of the online nodes: suspects last, then nodes that failed this request, then
   * nodes that failed often lately; ties at random. A node that silently stalls sessions ends
   * up left out without any proof against it.
   */
  pickQuorum(key: KeyInfo, online: readonly NodeId[], failed: ReadonlySet<NodeId>): NodeId[] {
    if (online.length < key.threshold) {
      throw new ServiceError('quorum_unavailable', `key needs ${key.threshold} signers, ${online.length} of its nodes are online`);
    }
    const now = Date.now();
    const rank = (n: NodeId) => (this.isSuspect(n, now) ? 1_000_000 : 0) + (failed.has(n) ? 10_000 : 0) + this.failureWeight(n);
    const shuffled = online.map((n) => ({ n, r: rank(n), tie: Math.random() })).sort((a, b) => a.r - b.r || a.tie - b.tie);
    return sortedParties(shuffled.slice(0, key.threshold).map((x) => x.n)) as NodeId[];
  }
}
