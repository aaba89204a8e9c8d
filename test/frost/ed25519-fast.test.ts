/**
 * Our FROST(Ed25519, SHA-512) signShare and aggregate (protocol/curves/ed25519-frost.ts) against
 * noble's `ed25519_FROST`, the generic RFC 9591 code we did not write: the same shares and
 * signatures for the same nonces, and the same refusals. Ours wraps noble's core here, as in
 * ciphersuites.ts, so a test can see when it hands over to it. (The RFC 9591 vectors run
 * through the suite's in vectors.test.ts.)
 */
import { ed25519, ed25519_FROST as reference } from '@noble/curves/ed25519.js';
import type { FrostSecret, NonceCommitments, Nonces } from '@noble/curves/abstract/frost.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { frostSuite } from '../../protocol/curves/ciphersuites.ts';
import { fastEd25519Frost } from '../../protocol/curves/ed25519-frost.ts';

/** Ours over noble's core, with the core's signShare watched: it runs only when ours falls back. */
const coreSignShare = vi.fn(reference.signShare);
const ours = fastEd25519Frost({ ...reference, signShare: coreSignShare }, frostSuite('eddsa-ed25519').verify);
const copy = (n: Nonces): Nonces => ({ hiding: Uint8Array.from(n.hiding), binding: Uint8Array.from(n.binding) });

function dealt(t: number, n: number) {
  const deal = reference.trustedDealer({ min: t, max: n });
  const ids = Object.keys(deal.secretShares);
  return { deal, ids, secret: (id: string): FrostSecret => deal.secretShares[id]! };
}

/** Round one for `signers` through our commit, with a copy of each signer's nonces for noble. */
function roundOne(secret: (id: string) => FrostSecret, signers: string[]) {
  const nonces = new Map<string, Nonces>();
  const copies = new Map<string, Nonces>();
  const list: NonceCommitments[] = [];
  for (const id of signers) {
    const { nonces: n, commitments } = ours.commit(secret(id));
    nonces.set(id, n);
    copies.set(id, copy(n));
    list.push(commitments);
  }
  return { nonces, copies, list };
}

describe('FROST(Ed25519) signShare and aggregate, ours against noble', () => {
  it('every signer of every 2-of-3 and 3-of-5 subset gets noble\'s share, and the aggregate is noble\'s signature', () => {
    for (const [t, n] of [[2, 3], [3, 5]] as const) {
      const { deal, ids, secret } = dealt(t, n);
      for (let k = 0; k < 4; k++) {
        const signers = ids.filter((_, i) => (i + k) % n < t);
        const msg = randomBytes(1 + k * 40);
        const { nonces, copies, list } = roundOne(secret, signers);
        const shares: Record<string, Uint8Array> = {};
        for (const id of signers) {
          coreSignShare.mockClear();
          shares[id] = ours.signShare(secret(id), deal.public, nonces.get(id)!, list, msg);
          expect(coreSignShare).not.toHaveBeenCalled();
          expect(shares[id]).toEqual(reference.signShare(secret(id), deal.public, copies.get(id)!, list, msg));
        }
        const signature = ours.aggregate(deal.public, list, msg, shares);
        expect(signature).toEqual(reference.aggregate(deal.public, list, msg, shares));
        expect(ed25519.verify(signature, msg, deal.public.commitments[0]!)).toBe(true);
      }
    }
  });

  it('nonces are single-use: signing again with them fails, as with noble', () => {
    const { deal, ids, secret } = dealt(2, 3);
    const signers = ids.slice(0, 2);
    const { nonces, list } = roundOne(secret, signers);
    const me = signers[0]!;
    ours.signShare(secret(me), deal.public, nonces.get(me)!, list, randomBytes(32));
    expect(nonces.get(me)!.hiding.every((b) => b === 0)).toBe(true);
    expect(() => ours.signShare(secret(me), deal.public, nonces.get(me)!, list, randomBytes(32))).toThrow(/nonces already used/);
  });

  it('a list that does not hold this signer\'s commitments is refused (a coordinator swapping them in)', () => {
    const { deal, ids, secret } = dealt(2, 3);
    const signers = ids.slice(0, 2);
    const { nonces, list } = roundOne(secret, signers);
    const me = signers[0]!;
    // The coordinator puts someone else's fresh commitments in this signer's place.
    const swapped = list.map((c) => (c.identifier === me ? { ...ours.commit(secret(me)).commitments } : c));
    expect(() => ours.signShare(secret(me), deal.public, nonces.get(me)!, swapped, randomBytes(32))).toThrow(/incorrect signer commitment/);
    // Nothing was consumed by the refusal: the nonces still sign over the real list.
    expect(ours.signShare(secret(me), deal.public, nonces.get(me)!, list, randomBytes(32))).toHaveLength(32);
  });

  it('nonces it did not hand out (decoded from storage) sign through noble\'s checks, with the same share', () => {
    const { deal, ids, secret } = dealt(2, 3);
    const signers = ids.slice(0, 2);
    const { nonces, list } = roundOne(secret, signers);
    const me = signers[0]!;
    const msg = randomBytes(32);
    const stored = copy(nonces.get(me)!);
    coreSignShare.mockClear();
    const share = ours.signShare(secret(me), deal.public, stored, list, msg);
    expect(coreSignShare).toHaveBeenCalledTimes(1);
    expect(share).toEqual(ours.signShare(secret(me), deal.public, nonces.get(me)!, list, msg));
  });

  it('a wrong share fails aggregation and names its signer only', () => {
    const { deal, ids, secret } = dealt(3, 5);
    const signers = ids.slice(0, 3);
    const msg = randomBytes(32);
    const { nonces, list } = roundOne(secret, signers);
    const shares: Record<string, Uint8Array> = {};
    for (const id of signers) shares[id] = ours.signShare(secret(id), deal.public, nonces.get(id)!, list, msg);
    const cheat = signers[1]!;
    const z = ed25519.Point.Fn;
    shares[cheat] = z.toBytes(z.add(z.fromBytes(shares[cheat]!), 1n));
    let caught: unknown;
    try {
      ours.aggregate(deal.public, list, msg, shares);
    } catch (e) {
      caught = e;
    }
    expect((caught as { cheaters?: string[] }).cheaters).toEqual([cheat]);
  });

  it('a share missing from the aggregate is refused, not summed without it', () => {
    const { deal, ids, secret } = dealt(2, 3);
    const signers = ids.slice(0, 2);
    const msg = randomBytes(32);
    const { nonces, list } = roundOne(secret, signers);
    const shares = { [signers[0]!]: ours.signShare(secret(signers[0]!), deal.public, nonces.get(signers[0]!)!, list, msg) };
    expect(() => ours.aggregate(deal.public, list, msg, shares)).toThrow(/aggregation failed/);
  });
});
