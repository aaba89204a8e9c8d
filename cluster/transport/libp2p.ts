/**
 * PeerTransport over libp2p (TCP, Noise, yamux) with the hybrid post-quantum layer of
 * `hybrid.ts` inside every stream. Peers are pinned: the connection gater refuses any peer
 * whose key is not in the manifest, and the hybrid handshake proves each side's identity key
 * again over a transcript that includes the ML-KEM exchange.
 *
 * Each direction has its own stream: `send(to)` opens (once) an outbound stream to `to`, runs
 * the handshake as initiator and writes sealed frames; inbound streams run the responder side and
 * deliver opened frames to the handler. A broken stream is forgotten and re-dialled on demand.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Libp2p, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { HandshakeError, initiate, respond, type ChannelKeys, type HandshakeIdentity, type HandshakeInfo, type HandshakeTestHooks } from './hybrid.ts';
import { ed25519Signer } from '../../protocol/curves/ed25519-signatures.ts';
import { manifestVerifier, type ClusterManifest, type ManifestMember } from './manifest.ts';
import type { MemberId, PeerTransport } from './types.ts';
import { FramedStream } from './framed-stream.ts';
import { halfWindowUpdates } from './half-window-updates.ts';
import { oneWritePerMessage } from './one-write-per-message.ts';

export const PROTOCOL = '/mpc-signer/hybrid/1.0.0';
const DEFAULT_MAX_FRAME = 8 * 1024 * 1024;
/**
 * Largest handshake message: hello/accept carry an ML-KEM-768 key or ciphertext, an X25519 key,
 * an Ed25519 and possibly an ML-DSA-65 signature (< 6 KiB together). Nothing bigger is buffered
 * before the peer has proved its identity.
 */
export const MAX_HANDSHAKE_FRAME = 16 * 1024;
/** How long an inbound TCP connection may take to finish libp2p's upgrade (Noise, yamux). */
const INBOUND_UPGRADE_TIMEOUT_MS = 3000;
/**
 * Channel lifetime: after this many frames or this long, the sender closes its stream and dials
 * a new one, whose handshake brings fresh ephemeral X25519 and ML-KEM keys (rekeying with forward
 * secrecy); a receiver ends a stream whose peer goes past the frame limit.
 */
const CHANNEL_MAX_FRAMES = 1 << 24;
const CHANNEL_MAX_AGE_MS = 60 * 60_000;

export interface Libp2pTransportOptions {
  readonly self: MemberId;
  readonly manifest: ClusterManifest;
  /** This member's Ed25519 identity seed (32 bytes); its public key must be the manifest's. */
  readonly identitySeed: Uint8Array;
  /** host:port to listen on; port 0 picks one. */
  readonly listen: string;
  readonly maxFrameBytes?: number;
  /** Rekey after this many frames (default 2^24) or this long (default 1 h); see CHANNEL_MAX_FRAMES. */
  readonly channelMaxFrames?: number;
  readonly channelMaxAgeMs?: number;
  readonly dialTimeoutMs?: number;
  /** Dials tried before a send gives up (default 4, backing off 250 ms, 500 ms, 1 s). */
  readonly dialAttempts?: number;
  readonly handshakeTimeoutMs?: number;
  /** Called when a dial attempt fails and will be tried again (logs; the retry test waits on it). */
  readonly onDialRetry?: (peer: MemberId, attempt: number, error: Error) => void;
  /** Called after every successful handshake (logs; the wire test reads it). */
  readonly onHandshake?: (info: HandshakeInfo) => void;
  /** Called when a peer is refused (unknown key, failed or classical-only handshake). */
  readonly onRefused?: (peer: string, reason: string) => void;
  readonly testHooks?: HandshakeTestHooks;
}

export class Libp2pTransport implements PeerTransport {
  readonly self: MemberId;
  private readonly node: Libp2p;
  private readonly opts: Libp2pTransportOptions;
  private readonly identity: HandshakeIdentity;
  private readonly byPeerId: Map<string, ManifestMember>;
  private readonly outbound = new Map<MemberId, Promise<Outbound>>();
  private readonly inbound = new Map<MemberId, Set<FramedStream>>();
  private handler: (from: MemberId, frame: Uint8Array) => void = () => undefined;
  private closed = false;

  private constructor(node: Libp2p, opts: Libp2pTransportOptions, identity: HandshakeIdentity, byPeerId: Map<string, ManifestMember>) {
    this.node = node;
    this.opts = opts;
    this.self = opts.self;
    this.identity = identity;
    this.byPeerId = byPeerId;
  }

  static async create(opts: Libp2pTransportOptions): Promise<Libp2pTransport> {
    const me = opts.manifest.members.get(opts.self);
    if (!me) throw new Error(`${opts.self} is not in the cluster manifest`);
    const privateKey = await generateKeyPairFromSeed('Ed25519', opts.identitySeed);
    if (!Buffer.from(privateKey.publicKey.raw).equals(Buffer.from(me.identityKey))) {
      throw new Error(`the identity key of ${opts.self} does not match the one pinned in the manifest`);
    }
    const byPeerId = new Map<string, ManifestMember>();
    for (const m of opts.manifest.members.values()) byPeerId.set(peerIdFromPublicKey(publicKeyFromRaw(m.identityKey)).toString(), m);
    const identity: HandshakeIdentity = { self: opts.self, sign: ed25519Signer(opts.identitySeed).sign, verify: manifestVerifier(opts.manifest) };
    const known = (peer: PeerId) => byPeerId.has(peer.toString());
    const [host, port] = opts.listen.split(':') as [string, string];
    // Bind the address the manifest names (a host name is resolved once), never every interface.
    const bindIp = isIP(host) ? host : (await lookup(host)).address;
    // Only the members' addresses may open a TCP connection at all (checked before any upgrade
    // work). Host names are resolved again, at most once a second, before an unknown address is
    // refused: in a container network a member may not be up yet, or come back with a new address.
    const allowedIps = new Set<string>();
    const names = [...opts.manifest.members.values()].map((m) => m.host).filter((h) => !isIP(h));
    for (const m of opts.manifest.members.values()) if (isIP(m.host)) allowedIps.add(m.host);
    let resolvedAt = 0;
    const resolveNames = async () => {
      if (!names.length || Date.now() - resolvedAt < 1000) return;
      resolvedAt = Date.now();
      for (const name of names) for (const a of await lookup(name, { all: true }).catch(() => [])) allowedIps.add(a.address);
    };
    await resolveNames();
    const remoteIp = (ma: { toString(): string }) => ma.toString().split('/')[2] ?? '';
    const node = await createLibp2p({
      privateKey,
      addresses: { listen: [`/${isIP(bindIp) === 6 ? 'ip6' : 'ip4'}/${bindIp}/tcp/${port}`] },
      transports: [tcp()],
      connectionEncrypters: [oneWritePerMessage(noise())],
      streamMuxers: [halfWindowUpdates(yamux())],
      // Room for every member to connect at once, and idle sockets are dropped quickly, so a few
      // silent connections cannot keep the members out (libp2p's defaults: 10 pending, 10 s).
      // The per-address rate limit (5/s by default) would let silent sockets from a member's own
      // address (a shared host, NAT, loopback) lock that member out; the allow-list filters addresses.
      connectionManager: {
        maxIncomingPendingConnections: Math.max(64, 4 * opts.manifest.members.size),
        inboundUpgradeTimeout: INBOUND_UPGRADE_TIMEOUT_MS,
        inboundConnectionThreshold: Math.max(64, 4 * opts.manifest.members.size),
      },
      connectionGater: {
        denyInboundConnection: async (maConn) => {
          const ip = remoteIp(maConn.remoteAddr);
          if (allowedIps.has(ip)) return false;
          await resolveNames();
          if (allowedIps.has(ip)) return false;
          opts.onRefused?.(ip, 'address not in the manifest');
          return true;
        },
        denyDialPeer: async (peer) => !known(peer),
        denyInboundEncryptedConnection: async (peer) => {
          if (known(peer)) return false;
          opts.onRefused?.(peer.toString(), 'peer key not in the manifest');
          return true;
        },
        denyOutboundEncryptedConnection: async (peer) => !known(peer),
      },
    });
    const transport = new Libp2pTransport(node, opts, identity, byPeerId);
    await node.handle(PROTOCOL, (stream, connection) => transport.accept(stream, connection.remotePeer), { maxInboundStreams: 64 });
    return transport;
  }

  /** The TCP port actually listened on (when `listen` asked for port 0). */
  get port(): number {
    const addr = this.node.getMultiaddrs()[0];
    return addr ? Number(addr.toString().split('/tcp/')[1]!.split('/')[0]) : 0;
  }

  onFrame(handler: (from: MemberId, frame: Uint8Array) => void): void {
    this.handler = handler;
  }

  connectedPeers(): MemberId[] {
    const peers = new Set<MemberId>();
    for (const [id, streams] of this.inbound) if (streams.size > 0) peers.add(id);
    for (const id of this.readyOutbound) peers.add(id);
    return [...peers].sort();
  }

  private readonly readyOutbound = new Set<MemberId>();

  async send(to: MemberId, frame: Uint8Array): Promise<void> {
    if (this.closed) throw new Error('transport closed');
    let pending = this.outbound.get(to);
    if (!pending) {
      pending = this.dialWithRetry(to);
      this.outbound.set(to, pending);
      pending.catch(() => this.outbound.delete(to));
    }
    const out = await pending;
    if (out.frames >= (this.opts.channelMaxFrames ?? CHANNEL_MAX_FRAMES) || Date.now() - out.opened > (this.opts.channelMaxAgeMs ?? CHANNEL_MAX_AGE_MS)) {
      // Rekey: a fresh stream and handshake (the old stream's keys are dropped with it).
      this.dropOutbound(to, out, true);
      return this.send(to, frame);
    }
    out.frames++;
    try {
      await out.stream.write(out.keys.send.seal(frame));
    } catch (e) {
      this.dropOutbound(to, out);
      throw e;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.node.stop();
  }

  /**
   * Forgets an outbound stream so the next send dials a new one: aborted when it broke, closed
   * gracefully (its last frames still arrive) when it is only being replaced by a rekey.
   */
  private dropOutbound(to: MemberId, out: Outbound, graceful = false): void {
    if (this.outbound.get(to) && this.readyOutbound.has(to)) {
      this.outbound.delete(to);
      this.readyOutbound.delete(to);
    }
    if (graceful) void out.stream.closeGracefully();
    else out.stream.abort();
  }

  /**
   * Dials until a channel is up or the attempts are spent. Nothing has been written when a dial
   * fails, so trying again cannot duplicate a frame; and sends queued behind this dial keep their
   * order. Without it, a peer that is slow to accept (a loaded host) loses the frame, and a
   * session that does not retry (key generation) waits out its deadline.
   */
  private async dialWithRetry(to: MemberId): Promise<Outbound> {
    const attempts = Math.max(1, this.opts.dialAttempts ?? 4);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dial(to);
      } catch (e) {
        if (attempt >= attempts || this.closed || e instanceof HandshakeError || e instanceof NotAMemberError) throw e;
        this.opts.onDialRetry?.(to, attempt, e as Error);
        await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
      }
    }
  }

  private async dial(to: MemberId): Promise<Outbound> {
    const member = this.opts.manifest.members.get(to);
    if (!member) throw new NotAMemberError(`${to} is not in the cluster manifest`);
    const peerId = peerIdFromPublicKey(publicKeyFromRaw(member.identityKey));
    const proto = isIP(member.host) === 4 ? 'ip4' : isIP(member.host) === 6 ? 'ip6' : 'dns';
    const addr = multiaddr(`/${proto}/${member.host}/tcp/${member.port}/p2p/${peerId.toString()}`);
    const raw = await this.node.dialProtocol(addr, PROTOCOL, { signal: AbortSignal.timeout(this.opts.dialTimeoutMs ?? 2000) });
    const stream = new FramedStream(raw, MAX_HANDSHAKE_FRAME);
    try {
      const hs = initiate(this.identity, to, this.opts.testHooks);
      await stream.write(hs.hello);
      const { confirm, keys } = hs.finish(await stream.next(this.opts.handshakeTimeoutMs ?? 5000));
      await stream.write(confirm);
      // A dialled stream only carries our frames: the peer writing anything back on it is
      // refused at once (nothing would ever read it, so it would only pile up in memory).
      stream.refuseData(() => this.opts.onRefused?.(to, 'wrote on a stream it did not open'));
      this.opts.onHandshake?.(keys.info);
      const out: Outbound = { stream, keys, frames: 0, opened: Date.now() };
      this.readyOutbound.add(to);
      stream.onClose(() => {
        if (this.readyOutbound.has(to)) {
          this.readyOutbound.delete(to);
          this.outbound.delete(to);
        }
      });
      return out;
    } catch (e) {
      stream.abort();
      if (e instanceof HandshakeError) this.opts.onRefused?.(to, e.message);
      throw e;
    }
  }

  private async accept(raw: Stream, remote: PeerId): Promise<void> {
    const member = this.byPeerId.get(remote.toString());
    const stream = new FramedStream(raw, MAX_HANDSHAKE_FRAME);
    if (!member) {
      stream.abort();
      return;
    }
    let keys: ChannelKeys;
    try {
      const hs = respond(this.identity, member.id, await stream.next(this.opts.handshakeTimeoutMs ?? 5000));
      await stream.write(hs.accept);
      keys = hs.finish(await stream.next(this.opts.handshakeTimeoutMs ?? 5000));
    } catch (e) {
      this.opts.onRefused?.(member.id, (e as Error).message);
      stream.abort();
      return;
    }
    this.opts.onHandshake?.(keys.info);
    stream.setMaxFrame(this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME);
    let set = this.inbound.get(member.id);
    if (!set) this.inbound.set(member.id, (set = new Set()));
    set.add(stream);
    stream.onClose(() => set.delete(stream));
    let frames = 0;
    const maxFrames = this.opts.channelMaxFrames ?? CHANNEL_MAX_FRAMES;
    stream.onFrames((sealed) => {
      if (++frames > maxFrames) {
        // The peer should have rekeyed (a new stream) by now.
        this.opts.onRefused?.(member.id, 'channel used past its frame limit');
        stream.abort();
        return;
      }
      let frame: Uint8Array;
      try {
        frame = keys.receive.open(sealed);
      } catch {
        // A forged or replayed frame ends the channel: the peer must reconnect and re-authenticate.
        stream.abort();
        return;
      }
      this.handler(member.id, frame);
    });
  }
}

class NotAMemberError extends Error {}

interface Outbound {
  readonly stream: FramedStream;
  readonly keys: ChannelKeys;
  /** Frames sent and when the channel was opened (see CHANNEL_MAX_FRAMES). */
  frames: number;
  readonly opened: number;
}
