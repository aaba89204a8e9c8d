/**
 * An in-memory network of `PeerTransport`s: what libp2p is to the daemons, this is to the
 * in-process cluster. Frames (signed envelopes) travel as bytes through one hook that decides
 * their fate (drop, delay, duplicate) and may let a byzantine sender rewrite its own message,
 * which is then sealed again under that sender's key, as a real byzantine node would.
 */
import type { ClusterMessage } from '../cluster/control.ts';
import { peekEnvelope, sealEnvelope } from '../cluster/envelope.ts';
import { encodeClusterMessage } from '../cluster/control.ts';
import type { MemberId, PeerTransport } from '../cluster/transport/types.ts';

/**
 * Decides the fate of one message in flight: deliver now, later, several times, or never.
 * Returns the delays (ms) of each copy to deliver; `[]` drops it, `[0]` passes it as is.
 * It may rewrite `message` (a byzantine sender's doing).
 */
export type FrameHook = (from: MemberId, to: MemberId, message: ClusterMessage) => number[];

export class MemoryNetwork {
  private readonly handlers = new Map<MemberId, (from: MemberId, frame: Uint8Array) => void>();
  private readonly down = new Set<MemberId>();
  private readonly signers: ReadonlyMap<MemberId, (input: Uint8Array) => Uint8Array>;
  hook: FrameHook | undefined;
  /** Every frame that crossed the network, when `recordWire` is set (for leak scans). */
  readonly wire: Uint8Array[] = [];
  recordWire = false;

  /** `signers`: each member's identity signer, used only to re-seal what a byzantine hook rewrote. */
  constructor(signers: ReadonlyMap<MemberId, (input: Uint8Array) => Uint8Array>) {
    this.signers = signers;
  }

  transport(self: MemberId): PeerTransport {
    return {
      self,
      send: async (to, frame) => {
        if (this.down.has(to)) throw new Error(`${to} is down`);
        this.transmit(self, to, frame);
      },
      onFrame: (handler) => void this.handlers.set(self, handler),
      connectedPeers: () => [...this.handlers.keys()].filter((m) => m !== self && !this.down.has(m)),
      close: async () => void this.handlers.delete(self),
    };
  }

  setDown(member: MemberId, down: boolean): void {
    if (down) this.down.add(member);
    else this.down.delete(member);
  }

  isDown(member: MemberId): boolean {
    return this.down.has(member);
  }

  private transmit(from: MemberId, to: MemberId, frame: Uint8Array): void {
    if (this.down.has(from) || this.down.has(to)) return;
    let delays = [0];
    if (this.hook) {
      const { body, message } = peekEnvelope(frame);
      delays = this.hook(from, to, message);
      if (Buffer.compare(Buffer.from(body), Buffer.from(encodeClusterMessage(message))) !== 0) frame = sealEnvelope(from, to, message, this.signers.get(from)!);
    }
    if (this.recordWire) this.wire.push(frame);
    for (const delay of delays) {
      const deliver = () => {
        if (this.down.has(from) || this.down.has(to)) return;
        this.handlers.get(to)?.(from, frame);
      };
      if (delay <= 0) setImmediate(deliver); // a macrotask, like a real network: timers (heartbeats) interleave
      else setTimeout(deliver, delay);
    }
  }
}
