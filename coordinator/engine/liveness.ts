/**
 * Which nodes are online: a heartbeat pings every node, and a node is online while it answered
 * anything within the liveness window. Pings carry a nonce unique across coordinator runs (8
 * random bytes per run, then a counter), so no ping is byte-identical to one a node's replay
 * guard already holds.
 */
import { randomBytes } from 'node:crypto';
import type { Bytes } from '../../protocol/core/codec.ts';
import type { CoordinatorMessage } from '../../cluster/control.ts';
import type { NodeId } from '../service.ts';

export interface LivenessOptions {
  readonly nodes: readonly NodeId[];
  readonly send: (node: NodeId, message: CoordinatorMessage) => Promise<void>;
  readonly heartbeatMs: number;
  readonly livenessMs: number;
  /** A node that was offline answered again (a restart, a healed partition). */
  readonly onBack?: (node: NodeId) => void;
}

export class Liveness {
  private readonly opts: LivenessOptions;
  private readonly lastSeen = new Map<NodeId, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly pingPrefix = randomBytes(8);
  private pingCount = 0n;

  constructor(opts: LivenessOptions) {
    this.opts = opts;
  }

  start(): void {
    const ping = () => {
      for (const node of this.opts.nodes) this.ping(node);
    };
    ping();
    this.heartbeat = setInterval(ping, this.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** Any message from a node shows it alive. */
  heardFrom(node: NodeId): void {
    if (!this.isOnline(node)) this.opts.onBack?.(node);
    this.lastSeen.set(node, Date.now());
  }

  /** A node whose connection dropped is offline until it answers again. */
  markOffline(node: NodeId): void {
    this.lastSeen.delete(node);
  }

  /** Pings sent since this run started (each carries a nonce never sent before, see the class comment). */
  get pingsSent(): number {
    return Number(this.pingCount);
  }

  isOnline(node: NodeId): boolean {
    const seen = this.lastSeen.get(node);
    return seen !== undefined && Date.now() - seen <= this.opts.livenessMs;
  }

  private ping(node: NodeId): void {
    const nonce = Buffer.alloc(16);
    this.pingPrefix.copy(nonce);
    nonce.writeBigUInt64BE(this.pingCount++, 8);
    this.opts.send(node, { type: 'ping', nonce: new Uint8Array(nonce) as Bytes }).catch(() => this.markOffline(node));
  }
}
