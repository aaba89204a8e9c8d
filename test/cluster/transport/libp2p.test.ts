/**
 * Real libp2p transports on 127.0.0.1: frames both ways, the hybrid X25519 + ML-KEM-768 layer
 * seen both in the negotiated parameters and in the bytes on the wire (through a recording TCP
 * proxy), and refusals of an unknown peer and of a classical-only peer.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, Socket, type Server } from 'node:net';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HandshakeInfo, HandshakeTestHooks } from '../../../cluster/transport/hybrid.ts';
import { Libp2pTransport } from '../../../cluster/transport/libp2p.ts';
import { manifestJson, parseManifest, type ClusterManifest } from '../../../cluster/transport/manifest.ts';
import type { MemberId } from '../../../cluster/transport/types.ts';
import { until } from '../../support/until.ts';
import { freePorts } from '../../../simulations/ports.ts';

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

async function identity() {
  const seed = new Uint8Array(randomBytes(32));
  const key = await generateKeyPairFromSeed('Ed25519', seed);
  return { seed, publicKey: key.publicKey.raw };
}

interface Member {
  id: string;
  seed: Uint8Array;
  publicKey: Uint8Array;
  port: number;
}

async function members(ids: string[]): Promise<Member[]> {
  const ports = await freePorts(ids.length);
  return Promise.all(ids.map(async (id, i) => ({ id, ...(await identity()), port: ports[i]! })));
}

function manifestOf(ms: Member[], addressOf: (m: Member) => string = (m) => `127.0.0.1:${m.port}`): ClusterManifest {
  return parseManifest(JSON.parse(manifestJson(ms.map((m) => ({ id: m.id, identityKey: m.publicKey, address: addressOf(m) })))));
}

async function start(m: Member, manifest: ClusterManifest, extra: { hooks?: HandshakeTestHooks; handshakes?: HandshakeInfo[]; refused?: string[] } = {}) {
  const t = await Libp2pTransport.create({
    self: m.id as MemberId,
    manifest,
    identitySeed: m.seed,
    listen: `127.0.0.1:${m.port}`,
    ...(extra.hooks ? { testHooks: extra.hooks } : {}),
    onHandshake: (i) => extra.handshakes?.push(i),
    onRefused: (peer, reason) => extra.refused?.push(`${peer}: ${reason}`),
  });
  open.push(t);
  const received: { from: string; frame: string }[] = [];
  t.onFrame((from, frame) => received.push({ from, frame: Buffer.from(frame).toString() }));
  return { t, received };
}

/**
 * Every socket write (either end) while the coordinator sends `count` small frames to node-1 over
 * a channel already up, and one more after them: a write a frame causes (a window update) follows
 * it at once, so it is in before the last frame arrives.
 */
async function socketWritesForOneWayFrames(count: number): Promise<{ writes: { chunk: Uint8Array; socket: Socket }[]; receiverPort: number }> {
  const ms = await members(['coordinator', 'node-1']);
  const manifest = manifestOf(ms);
  const [c, n1] = await Promise.all(ms.map((m) => start(m, manifest)));
  await c!.t.send('node-1' as MemberId, Buffer.from('channel up'));
  await until('the first frame', () => n1!.received.length === 1);
  const spy = vi.spyOn(Socket.prototype, 'write');
  try {
    for (let i = 0; i <= count; i++) await c!.t.send('node-1' as MemberId, Buffer.from(`frame ${i}`));
    await until('every frame', () => n1!.received.length === count + 2);
    // Copied before restoring, which clears them.
    const writes = spy.mock.calls.map(([chunk], i) => ({ chunk: chunk as Uint8Array, socket: spy.mock.contexts[i] as Socket }));
    return { writes, receiverPort: ms[1]!.port };
  } finally {
    spy.mockRestore();
  }
}

describe('libp2p transport with the hybrid post-quantum channel', () => {
  it('delivers frames both ways between pinned members, over X25519MLKEM768', async () => {
    const ms = await members(['coordinator', 'node-1', 'node-2']);
    const manifest = manifestOf(ms);
    const handshakes: HandshakeInfo[] = [];
    const [c, n1, n2] = await Promise.all(ms.map((m) => start(m, manifest, { handshakes })));
    await c!.t.send('node-1' as MemberId, Buffer.from('to n1'));
    await n1!.t.send('coordinator' as MemberId, Buffer.from('to c'));
    await n1!.t.send('node-2' as MemberId, Buffer.from('n1 to n2'));
    await n2!.t.send('node-1' as MemberId, Buffer.from('n2 to n1'));
    for (let i = 0; i < 50; i++) await c!.t.send('node-2' as MemberId, Buffer.from(`seq ${i}`));
    await until('every frame', () => n1!.received.length === 2 && c!.received.length === 1 && n2!.received.length === 51);
    expect(n1!.received).toContainEqual({ from: 'coordinator', frame: 'to n1' });
    expect(n1!.received).toContainEqual({ from: 'node-2', frame: 'n2 to n1' });
    expect(c!.received).toEqual([{ from: 'node-1', frame: 'to c' }]);
    expect(n2!.received.slice(1).map((r) => r.frame)).toEqual(Array.from({ length: 50 }, (_, i) => `seq ${i}`));
    expect(handshakes.length).toBeGreaterThanOrEqual(8); // both sides of 4 directed channels
    for (const h of handshakes) expect(h).toMatchObject({ group: 'X25519MLKEM768', encapsulationKeyBytes: 1184, ciphertextBytes: 1088 });
    expect(c!.t.connectedPeers()).toEqual(['node-1', 'node-2']);
  });

  it('hands each Noise message to the socket in one write, its length prefix joined to its ciphertext', async () => {
    const { writes } = await socketWritesForOneWayFrames(20);
    // Before, every message went out as two writes, the first its 2-byte length alone (and with
    // Nagle off, as a segment of its own).
    expect(writes.length).toBeGreaterThanOrEqual(20);
    for (const { chunk } of writes) expect(chunk.length).toBe(2 + ((chunk[0]! << 8) | chunk[1]!)); // one whole Noise message
  });

  it('a receiver grants more window at half its window, not after every frame: 20 small frames one way draw no write back', async () => {
    const { writes, receiverPort } = await socketWritesForOneWayFrames(20);
    // node-1's end of the connection coordinator dialled is the one on node-1's port. Before, it
    // wrote a WINDOW_UPDATE (one Noise message) for every frame it received.
    expect(writes.length).toBeGreaterThanOrEqual(20);
    expect(writes.filter((w) => w.socket.localPort === receiverPort)).toEqual([]);
  });

  it('streams more than ten receive windows of data in order: the receiver still grants credit as it reads', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const manifest = manifestOf(ms);
    const [c, n1] = await Promise.all(ms.map((m) => start(m, manifest)));
    const frames = Array.from({ length: 48 }, (_, i) => Buffer.alloc(64 * 1024, `${i % 10}`)); // 3 MiB; a window is 256 KiB
    for (const f of frames) void c!.t.send('node-1' as MemberId, f);
    await until('every frame', () => n1!.received.length === frames.length);
    expect(n1!.received.map((r) => r.frame)).toEqual(frames.map((f) => f.toString()));
  });

  it('puts the ML-KEM-768 key and ciphertext on the wire (recording proxy)', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const [proxyPort] = (await freePorts(1, ms.map((m) => m.port))) as [number];
    const upstream = ms[1]!.port;
    const bytes = { toResponder: 0, toInitiator: 0 };
    const proxy: Server = createServer((client) => {
      const server = connect(upstream, '127.0.0.1');
      client.on('data', (d) => (bytes.toResponder += d.length));
      server.on('data', (d) => (bytes.toInitiator += d.length));
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    }).listen(proxyPort, '127.0.0.1');
    open.push({ close: () => void proxy.close() });
    // The coordinator reaches node-1 through the proxy.
    const viaProxy = manifestOf(ms, (m) => `127.0.0.1:${m.id === 'node-1' ? proxyPort : m.port}`);
    const c = await start(ms[0]!, viaProxy);
    const n1 = await start(ms[1]!, manifestOf(ms));
    await c.t.send('node-1' as MemberId, Buffer.from('x'));
    await until('one frame at node-1', () => n1.received.length === 1);
    // Noise + libp2p framing alone is a few hundred bytes; the hybrid hello carries a 1184-byte
    // ML-KEM encapsulation key and the accept a 1088-byte ciphertext, both visible as volume.
    expect(bytes.toResponder).toBeGreaterThan(1184 + 32);
    expect(bytes.toInitiator).toBeGreaterThan(1088 + 32 + 64);
  });

  it('a frame sent to a peer that is not listening yet arrives once it listens: the failed dial is retried, and frames queued behind it keep their order', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const manifest = manifestOf(ms);
    const retries: number[] = [];
    const c = await Libp2pTransport.create({ self: 'coordinator' as MemberId, manifest, identitySeed: ms[0]!.seed, listen: `127.0.0.1:${ms[0]!.port}`, onDialRetry: (_peer, attempt) => retries.push(attempt) });
    open.push(c);
    const sent = ['first', 'second', 'third'].map((f) => c.send('node-1' as MemberId, Buffer.from(f)));
    await until('a dial retried', () => retries.length > 0); // node-1 refused the first dial: nobody listens on its port
    const n1 = await start(ms[1]!, manifest);
    await Promise.all(sent);
    await until('three frames at node-1', () => n1.received.length === 3);
    expect(n1.received.map((r) => r.frame)).toEqual(['first', 'second', 'third']);
  });

  it('gives up on a peer that never listens after its dial attempts, and says so', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const retries: number[] = [];
    const c = await Libp2pTransport.create({ self: 'coordinator' as MemberId, manifest: manifestOf(ms), identitySeed: ms[0]!.seed, listen: `127.0.0.1:${ms[0]!.port}`, dialAttempts: 3, onDialRetry: (_peer, attempt) => retries.push(attempt) });
    open.push(c);
    await expect(c.send('node-1' as MemberId, Buffer.from('lost'))).rejects.toThrow();
    expect(retries).toEqual([1, 2]);
  });

  it('refuses a peer whose key is not in the manifest', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const [stranger] = await members(['node-9']);
    const refused: string[] = [];
    await start(ms[1]!, manifestOf(ms), { refused });
    // The stranger knows node-1's real key and address but is not pinned by node-1.
    const s = await start(stranger!, manifestOf([ms[0]!, ms[1]!, stranger!]));
    await expect(s.t.send('node-1' as MemberId, Buffer.from('let me in'))).rejects.toThrow();
    await until('a refusal: not in the manifest', () => refused.some((r) => r.includes('not in the manifest')));
  });

  it('refuses a classical-only peer, without downgrading', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const manifest = manifestOf(ms);
    const refused: string[] = [];
    const n1 = await start(ms[1]!, manifest, { refused });
    const classical = await start(ms[0]!, manifest, { hooks: { classicalOnly: true } });
    await expect(classical.t.send('node-1' as MemberId, Buffer.from('plain'))).rejects.toThrow();
    await until('a refusal of the classical-only peer', () => refused.some((r) => r.includes('classical-only peers are refused')));
    expect(n1.received).toEqual([]);
  });

  it('refuses an initiator whose confirm does not prove its key (it reflects the responder\'s own signature)', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const manifest = manifestOf(ms);
    const refused: string[] = [];
    const n1 = await start(ms[1]!, manifest, { refused });
    const reflecting = await start(ms[0]!, manifest, { hooks: { reflectAcceptSignature: true } });
    // The initiator's send may count as done (its confirm and frame left); the responder decides.
    await reflecting.t.send('node-1' as MemberId, Buffer.from('unproven')).catch(() => undefined);
    await until('a refusal: no proof of identity', () => refused.some((r) => r.includes('coordinator failed to prove its identity')));
    expect(n1.received).toEqual([]);
  });

  it('drops a stream that sends an oversized frame, and recovers by re-dialling', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const manifest = manifestOf(ms);
    const n1 = await Libp2pTransport.create({ self: 'node-1' as MemberId, manifest, identitySeed: ms[1]!.seed, listen: `127.0.0.1:${ms[1]!.port}`, maxFrameBytes: 4096 });
    open.push(n1);
    const got: string[] = [];
    n1.onFrame((_f, frame) => got.push(Buffer.from(frame).toString()));
    const c = await start(ms[0]!, manifest);
    await c.t.send('node-1' as MemberId, Buffer.from('small'));
    await c.t.send('node-1' as MemberId, new Uint8Array(16384)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    await c.t.send('node-1' as MemberId, Buffer.from('after')).catch(() => undefined);
    await until('the small frame', () => got.includes('small'));
    // Either the write failed with the stream, or a later send re-dials; eventually frames flow again.
    await until('frames flowing again', () => {
      void c.t.send('node-1' as MemberId, Buffer.from('again')).catch(() => undefined);
      return got.includes('again');
    });
    expect(got.some((g) => g.length === 16384)).toBe(false);
  });

  it('a pinned member sending a 1 MiB hello is cut off before the responder buffers it (handshake frames are capped at 16 KiB)', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const manifest = manifestOf(ms);
    const refused: string[] = [];
    const n1 = await start(ms[1]!, manifest, { refused });
    const hostile = await start(ms[0]!, manifest, { hooks: { helloPadding: 1024 * 1024 } });
    await expect(hostile.t.send('node-1' as MemberId, Buffer.from('x'))).rejects.toThrow();
    await until('the closed stream reported', () => refused.some((r) => r.startsWith('coordinator: stream closed')));
    expect(n1.received).toEqual([]);
  });

  it('idle TCP sockets on a peer port do not keep a pinned member out, and are closed by the node', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const manifest = manifestOf(ms);
    const n1 = await start(ms[1]!, manifest);
    // Twelve connections that never speak (libp2p's default allowed 10 pending upgrades for 10 s).
    const idle = await Promise.all(
      Array.from({ length: 12 }, () => new Promise<import('node:net').Socket>((resolve) => {
        const s = connect(ms[1]!.port, '127.0.0.1', () => resolve(s));
        s.on('error', () => undefined);
      })),
    );
    const closed = new Set<number>();
    idle.forEach((s, i) => s.on('close', () => closed.add(i)));
    const c = await start(ms[0]!, manifest);
    await c.t.send('node-1' as MemberId, Buffer.from('through'));
    await until('the frame through', () => n1.received.some((r) => r.frame === 'through'));
    await until('every idle connection closed', () => closed.size === idle.length);
  });

  it('a member that writes back on a stream it was dialled on is cut off, and what it wrote is not kept', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const manifest = manifestOf(ms);
    const refused: string[] = [];
    const c = await start(ms[0]!, manifest, { refused });
    const n1 = await start(ms[1]!, manifest);
    await c.t.send('node-1' as MemberId, Buffer.from('hello'));
    await until('one frame at node-1', () => n1.received.length === 1);
    // The hostile member writes 4 MiB back on the inbound stream the coordinator opened to it.
    const inbound = [...((n1.t as unknown as { inbound: Map<string, Set<{ write(f: Uint8Array): Promise<void> }>> }).inbound.get('coordinator') ?? [])];
    expect(inbound.length).toBe(1);
    await Promise.all(Array.from({ length: 64 }, () => inbound[0]!.write(new Uint8Array(64 * 1024)).catch(() => undefined)));
    await until('the refusal of a write on a dialled stream', () => refused.some((r) => r === 'node-1: wrote on a stream it did not open'));
    // The coordinator re-dials and frames flow again.
    await until('frames flowing again', () => {
      void c.t.send('node-1' as MemberId, Buffer.from('again')).catch(() => undefined);
      return n1.received.some((r) => r.frame === 'again');
    });
  });

  it('rekeys: after its frame limit a channel is replaced by a new stream with a fresh hybrid handshake, and no frame is lost', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const manifest = manifestOf(ms);
    const handshakes: HandshakeInfo[] = [];
    const n1 = await start(ms[1]!, manifest);
    const c = await Libp2pTransport.create({ self: 'coordinator' as MemberId, manifest, identitySeed: ms[0]!.seed, listen: `127.0.0.1:${ms[0]!.port}`, channelMaxFrames: 4, onHandshake: (i) => handshakes.push(i) });
    open.push(c);
    for (let i = 0; i < 12; i++) await c.send('node-1' as MemberId, Buffer.from(`frame ${i}`));
    await until('twelve frames at node-1', () => n1.received.length === 12);
    // Frames of different streams may interleave on arrival; none is lost or duplicated.
    expect(n1.received.map((r) => r.frame).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `frame ${i}`).sort());
    expect(handshakes.length).toBe(3);
  });

  it('refuses a TCP connection from an address outside the manifest before any upgrade work', async () => {
    const ms = await members(['coordinator', 'node-1']);
    const refused: string[] = [];
    await start(ms[1]!, manifestOf(ms), { refused });
    // Same machine, another loopback source address: not a member's.
    const s = connect({ host: '127.0.0.1', port: ms[1]!.port, localAddress: '127.0.0.2' });
    s.on('error', () => undefined);
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    await until('the refusal of 127.0.0.2', () => refused.includes('127.0.0.2: address not in the manifest'));
    await closed;
  });
});
