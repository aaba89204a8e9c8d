/**
 * A hybrid channel's frames after the handshake (cluster/transport/hybrid.ts): what a network
 * attacker between two members can do with them. Frames open once, in order, under this
 * channel's key only; a replayed, reordered, altered or foreign frame is refused.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { initiate, respond, type HandshakeIdentity } from '../../../cluster/transport/hybrid.ts';

function members() {
  const keys = new Map(['node-1', 'node-2'].map((m) => [m, generateKeyPairSync('ed25519')] as const));
  const identity = (self: string): HandshakeIdentity => ({
    self,
    sign: (message) => sign(null, message, keys.get(self)!.privateKey),
    verify: (member, message, signature) => !!keys.get(member) && verify(null, message, keys.get(member)!.publicKey, signature),
  });
  return { a: identity('node-1'), b: identity('node-2') };
}

/** A completed handshake: node-1's sending keys and node-2's receiving keys of one channel. */
function channel() {
  const { a, b } = members();
  const hs = initiate(a, 'node-2');
  const responder = respond(b, 'node-1', hs.hello);
  const { keys: initiatorKeys, confirm } = hs.finish(responder.accept);
  return { send: initiatorKeys.send, receive: responder.finish(confirm).receive };
}

const text = (s: string) => new TextEncoder().encode(s);

describe('hybrid channel frames', () => {
  it('open in order, once: a replayed or reordered frame is refused', () => {
    const { send, receive } = channel();
    const [f0, f1, f2] = ['zero', 'one', 'two'].map((s) => send.seal(text(s)));
    expect(Buffer.from(receive.open(f0!)).toString()).toBe('zero');
    expect(() => receive.open(f0!)).toThrow(); // replayed
    expect(() => receive.open(f2!)).toThrow(); // out of order
    expect(Buffer.from(receive.open(f1!)).toString()).toBe('one');
  });

  it('refuses a frame with one bit changed, and a frame sealed under another channel\'s key', () => {
    const { send, receive } = channel();
    const altered = send.seal(text('pay 1'));
    altered[0]! ^= 1;
    expect(() => receive.open(altered)).toThrow();
    const other = channel();
    expect(() => receive.open(other.send.seal(text('pay 2')))).toThrow();
  });
});
