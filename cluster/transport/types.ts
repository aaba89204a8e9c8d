/**
 * What the node daemon and the coordinator need from the network, whatever carries it:
 * libp2p over hybrid post-quantum channels in production (`libp2p.ts`), an in-memory
 * network in the simulations (`simulations/memory-network.ts`); `ClusterLink` (cluster/link.ts)
 * seals and opens the messages on either. Frames are opaque bytes (signed envelopes, see `envelope.ts`);
 * the transport authenticates the peer at the channel level against the cluster manifest,
 * so `from` is the authenticated manifest identity of the sender, never a claim in the frame.
 */

/** A member of the cluster as named in the manifest: `coordinator` or `node-<n>`. */
export type MemberId = string & { readonly __brand: 'MemberId' };

export interface PeerTransport {
  readonly self: MemberId;
  /** Sends one frame; rejects if the peer cannot be reached (the caller decides whether to retry). */
  send(to: MemberId, frame: Uint8Array): Promise<void>;
  /** Registers the single handler for incoming frames. */
  onFrame(handler: (from: MemberId, frame: Uint8Array) => void): void;
  /** Peers with an open, authenticated channel right now. */
  connectedPeers(): MemberId[];
  close(): Promise<void>;
}
