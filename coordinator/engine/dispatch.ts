/**
 * Sending commands to nodes and collecting their reports. Every operation goes through here:
 * `command` encodes a request with a fresh session id (the link signs the envelope it travels
 * in with the coordinator's identity); `collect` sends it and routes the participants'
 * reports to the operation until it finishes, fails, or runs out of time, then tells every
 * participant to drop the session if it did not finish.
 */
import { randomBytes } from 'node:crypto';
import { encodeCbor, type Bytes } from '../../protocol/core/codec.ts';
import { requestCodec, type CoordinatorMessage, type NodeReport, type RequestOf, type RequestType } from '../../cluster/control.ts';
import { ServiceError, type NodeId } from '../service.ts';

/** A command ready to send, with the session it opens. */
export interface Command {
  readonly session: string;
  readonly message: CoordinatorMessage;
}

export interface Settle {
  finish(): void;
  fail(error: ServiceError): void;
}

export interface DispatchOptions {
  readonly send: (node: NodeId, message: CoordinatorMessage) => Promise<void>;
  readonly maxSessions: number;
  /** A node could not be reached. */
  readonly unreachable: (node: NodeId) => void;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

interface Pending {
  readonly nodes: readonly NodeId[];
  readonly onReport: (node: NodeId, report: NodeReport) => void;
}

export class Dispatcher {
  private readonly opts: DispatchOptions;
  private readonly pending = new Map<string, Pending>();

  constructor(opts: DispatchOptions) {
    this.opts = opts;
  }

  get activeSessions(): number {
    return this.pending.size;
  }

  /** Refuses new work when too many sessions are in flight. */
  admit(): void {
    if (this.pending.size >= this.opts.maxSessions) throw new ServiceError('overloaded', 'too many sessions in flight; retry later');
  }

  /** Encodes a request of `type` under a fresh session id. */
  command<T extends RequestType>(type: T, fields: Omit<RequestOf<T>, 'session'>): Command {
    const session = randomBytes(32) as Bytes;
    const request = encodeCbor(requestCodec(type), { session, ...fields } as RequestOf<T>) as Bytes;
    return { session: Buffer.from(session).toString('hex'), message: { type, request } as CoordinatorMessage };
  }

  /** Sends a command that expects no report (confirmations, erasures); unreachable nodes catch up later. */
  notify(nodes: readonly NodeId[], command: Command): void {
    for (const node of nodes) void this.opts.send(node, command.message).catch(() => undefined);
  }

  /** Routes a report to the session it belongs to; false when no running session expects it. */
  route(node: NodeId, session: string, report: NodeReport): boolean {
    const p = this.pending.get(session);
    if (!p || !p.nodes.includes(node)) return false;
    p.onReport(node, report);
    return true;
  }

  /**
   * Sends `command` to `nodes` and waits on their reports until `onReport` calls `finish()` or
   * `fail(error)`. The deadline, or a node that cannot be reached, fails it; on failure every
   * participant is told to drop the session.
   */
  async collect(
    command: Command,
    nodes: readonly NodeId[],
    deadline: number,
    timeoutMessage: string | (() => string),
    onReport: (node: NodeId, report: NodeReport, settle: Settle) => void,
  ): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const timer = setTimeout(() => fail(new ServiceError('deadline_exceeded', typeof timeoutMessage === 'string' ? timeoutMessage : timeoutMessage())), Math.max(0, deadline - Date.now()));
        const finish = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve();
        };
        const fail = (error: ServiceError) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(error);
        };
        this.pending.set(command.session, { nodes, onReport: (node, report) => onReport(node, report, { finish, fail }) });
        for (const node of nodes) {
          this.opts.send(node, command.message).catch(() => {
            this.opts.unreachable(node);
            fail(new ServiceError('quorum_unavailable', `node ${node} is unreachable`));
          });
        }
      });
    } catch (e) {
      this.cancel(nodes, command.session);
      throw e;
    } finally {
      this.pending.delete(command.session);
    }
  }

  /**
   * Sends `command` to `nodes` and resolves with the first outcome `onReport` or `onUnreachable`
   * settles on, or `onTimeout`'s after `timeoutMs`. Unlike `collect`, an unreachable node or a
   * timeout is an outcome, not an error: signing retries with another quorum.
   */
  race<O>(
    command: Command,
    nodes: readonly NodeId[],
    timeoutMs: number,
    handlers: { onReport(node: NodeId, report: NodeReport, settle: (o: O) => void): void; onUnreachable(node: NodeId): O; onTimeout(): O },
  ): Promise<O> {
    return new Promise<O>((resolve) => {
      const timer = setTimeout(() => settle(handlers.onTimeout()), timeoutMs);
      const settle = (o: O) => {
        clearTimeout(timer);
        this.pending.delete(command.session);
        resolve(o);
      };
      this.pending.set(command.session, { nodes, onReport: (node, report) => handlers.onReport(node, report, settle) });
      for (const node of nodes) {
        this.opts.send(node, command.message).catch(() => {
          this.opts.unreachable(node);
          settle(handlers.onUnreachable(node));
        });
      }
    });
  }

  /** Tells `nodes` to drop `session`. */
  cancel(nodes: readonly NodeId[], session: string): void {
    for (const node of nodes) void this.opts.send(node, { type: 'cancel', session: Buffer.from(session, 'hex') as Bytes }).catch(() => undefined);
  }

  /** Tells the participants of every running session to drop it (shutdown). */
  cancelAll(): void {
    for (const [session, p] of this.pending) this.cancel(p.nodes, session);
  }

  /**
   * A node's failure reason goes to the coordinator's log in full; callers see only its code
   * (node reasons can name internal state: keys, epochs, peers, paths).
   */
  failure(operation: string, node: NodeId, report: { code: string; reason: string }, requestId: string): string {
    this.opts.log?.('node_failed', { operation, node, requestId, code: report.code, reason: report.reason });
    return `${report.code} (details in the coordinator log, request ${requestId})`;
  }
}
