/**
 * One member's end of the cluster, over any `PeerTransport`: every outgoing message is sealed in
 * a signed envelope; every incoming frame is opened and checked (sender = the channel's
 * authenticated peer, recipient = this member, identity signature, ML-DSA-65 when pinned,
 * header bound to body), replays are dropped, and peers are named as the control plane names
 * them. The node, the coordinator and the in-memory cluster all use it, so this wiring exists once.
 */
import { partyId, type PartyId } from '../protocol/core/ids.ts';
import type { ClusterMessage } from './control.ts';
import { openEnvelope, ReplayGuard, sealEnvelope } from './envelope.ts';
import { COORDINATOR, nodeMember, nodeNumber } from './transport/manifest.ts';
import type { MemberId, PeerTransport } from './transport/types.ts';

/** A member as the control plane sees it: the coordinator, or a node by its party id. */
export type Peer = { readonly role: 'coordinator' } | { readonly role: 'node'; readonly id: PartyId };

export const memberOf = (peer: Peer): MemberId => (peer.role === 'coordinator' ? COORDINATOR : nodeMember(peer.id));

export function peerOf(member: MemberId): Peer {
  const n = nodeNumber(member);
  return n === undefined ? { role: 'coordinator' } : { role: 'node', id: partyId(n) };
}

export interface LinkOptions {
  readonly transport: PeerTransport;
  /** Signs with this member's identity key. */
  readonly sign: (input: Uint8Array) => Uint8Array;
  /** Adds an ML-DSA-65 signature, for members whose manifest entry pins one. */
  readonly pqSign?: (input: Uint8Array) => Uint8Array;
  /** Checks a member's identity signature against the manifest. */
  readonly verify: (member: string, input: Uint8Array, signature: Uint8Array) => boolean;
  readonly verifyPq?: (member: string, input: Uint8Array, signature: Uint8Array | undefined) => boolean;
  /** A frame that did not open (dropped); for the log. */
  readonly onRefused?: (from: MemberId, error: Error) => void;
}

export class ClusterLink {
  private readonly opts: LinkOptions;
  private readonly guard = new ReplayGuard();

  constructor(opts: LinkOptions) {
    this.opts = opts;
  }

  get self(): MemberId {
    return this.opts.transport.self;
  }

  /** Seals and sends; rejects when the peer cannot be reached. */
  send(to: Peer, message: ClusterMessage): Promise<void> {
    const target = memberOf(to);
    return this.opts.transport.send(target, sealEnvelope(this.self, target, message, this.opts.sign, this.opts.pqSign));
  }

  /** Registers the single handler for messages that opened and were not seen before. */
  onMessage(handler: (from: Peer, message: ClusterMessage) => void): void {
    this.opts.transport.onFrame((from, frame) => {
      let opened: ReturnType<typeof openEnvelope>;
      try {
        opened = openEnvelope(frame, from, this.self, this.opts.verify, this.opts.verifyPq);
      } catch (e) {
        this.opts.onRefused?.(from, e as Error);
        return;
      }
      if (this.guard.fresh(opened.digest)) handler(peerOf(from), opened.message);
    });
  }

  close(): Promise<void> {
    return this.opts.transport.close();
  }
}
