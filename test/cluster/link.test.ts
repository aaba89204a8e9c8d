/**
 * The cluster link against a network that replays and forges: a frame delivered twice reaches
 * the member once, a frame re-addressed or re-attributed by the network is refused, and a
 * message signed by another member's key is refused. Over the in-memory network, whose hook
 * plays the adversary.
 */
import { generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ClusterMessage } from '../../cluster/control.ts';
import { sealEnvelope } from '../../cluster/envelope.ts';
import { ClusterLink, type Peer } from '../../cluster/link.ts';
import { COORDINATOR, nodeMember } from '../../cluster/transport/manifest.ts';
import type { MemberId } from '../../cluster/transport/types.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import { MemoryNetwork } from '../../simulations/memory-network.ts';

const members = [COORDINATOR, nodeMember(1), nodeMember(2)];
const keys = new Map<MemberId, { priv: KeyObject; pub: KeyObject }>(members.map((m) => {
  const k = generateKeyPairSync('ed25519');
  return [m, { priv: k.privateKey, pub: k.publicKey }];
}));
const signer = (m: MemberId) => (input: Uint8Array) => new Uint8Array(edSign(null, input, keys.get(m)!.priv));
const verify = (m: string, input: Uint8Array, sig: Uint8Array) => edVerify(null, input, keys.get(m as MemberId)!.pub, sig);
const ping = (n: number): ClusterMessage => ({ type: 'ping', nonce: new Uint8Array(16).fill(n) as Bytes });

function setup() {
  const network = new MemoryNetwork(new Map(members.map((m) => [m, signer(m)])));
  const refused: string[] = [];
  const link = (m: MemberId) => new ClusterLink({ transport: network.transport(m), sign: signer(m), verify, onRefused: (_from, e) => refused.push(e.message) });
  const coordinator = link(COORDINATOR);
  const node1 = link(nodeMember(1));
  const received: { from: Peer; message: ClusterMessage }[] = [];
  node1.onMessage((from, message) => received.push({ from, message }));
  return { network, coordinator, node1, received, refused };
}

describe('cluster link against a hostile network', () => {
  it('delivers a frame the network duplicates once, and names the authenticated sender', async () => {
    const { network, coordinator, received } = setup();
    network.hook = () => [0, 0, 0]; // every frame three times
    await coordinator.send({ role: 'node', id: 1 as never }, ping(1));
    await coordinator.send({ role: 'node', id: 1 as never }, ping(2));
    // A last frame, sent once: the network delivers in order, so when it is in, every copy before it is too.
    network.hook = undefined;
    await coordinator.send({ role: 'node', id: 1 as never }, ping(9));
    await expect.poll(() => received.some((r) => r.message.type === 'ping' && r.message.nonce[0] === 9)).toBe(true);
    expect(received.map((r) => [r.from, r.message])).toEqual([
      [{ role: 'coordinator' }, ping(1)],
      [{ role: 'coordinator' }, ping(2)],
      [{ role: 'coordinator' }, ping(9)],
    ]);
  });

  it('refuses a frame signed by a member other than the authenticated sender, or addressed to another member', async () => {
    const { network, received, refused } = setup();
    // node-2's channel carries a frame that claims to be the coordinator's (signed with node-2's key).
    await network.transport(nodeMember(2)).send(nodeMember(1), sealEnvelope(COORDINATOR, nodeMember(1), ping(3), signer(nodeMember(2))));
    // node-2 sends node-1 a frame it sealed for the coordinator.
    await network.transport(nodeMember(2)).send(nodeMember(1), sealEnvelope(nodeMember(2), COORDINATOR, ping(4), signer(nodeMember(2))));
    // The coordinator's channel carries a frame signed with node-2's key.
    await network.transport(COORDINATOR).send(nodeMember(1), sealEnvelope(COORDINATOR, nodeMember(1), ping(5), signer(nodeMember(2))));
    await expect.poll(() => refused.length).toBe(3);
    expect(refused).toEqual([expect.stringMatching(/claims coordinator but came from node-2/), expect.stringMatching(/for coordinator, this is node-1/), expect.stringMatching(/bad envelope signature from coordinator/)]);
    expect(received).toEqual([]);
  });
});
