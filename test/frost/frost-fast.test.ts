/**
 * Our FROST signShare and aggregate (protocol/curves/frost-fast.ts) against noble's
 * `ed25519_FROST` and `schnorr_FROST`, the generic RFC 9591 code we did not write: the same
 * shares and signatures for the same nonces, and the same refusals. Ours wraps noble's core
 * here, as in ciphersuites.ts, so a test can see when it hands over to it. (The RFC 9591 and
 * Zcash vectors run through the suites' in vectors.test.ts.)
 */
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { schnorr, schnorr_FROST, secp256k1 } from '@noble/curves/secp256k1.js';
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import type { FROST, FrostSecret, NonceCommitments, Nonces } from '@noble/curves/abstract/frost.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { BIP340_PARTS, ED25519_PARTS, fastFrost, type FrostSuiteParts } from '../../protocol/curves/frost-fast.ts';
import { frostSuite } from '../../protocol/curves/ciphersuites.ts';
import { Secp256k1Encoded } from '../../protocol/curves/secp256k1-libsecp.ts';

interface Case {
  readonly name: string;
  readonly reference: FROST;
  readonly parts: FrostSuiteParts<never>;
  /** The ordinary verifier, given the key package's group key (33-byte SEC1 for BIP340). */
  verify(sig: Uint8Array, msg: Uint8Array, groupKey: Uint8Array): boolean;
}

const CASES: Case[] = [
  { name: 'Ed25519', reference: ed25519_FROST, parts: ED25519_PARTS as FrostSuiteParts<never>, verify: (sig, msg, key) => ed25519.verify(sig, msg, key) },
  // Dealt keys and nonces of either parity: both negations of the x-only rules get exercised.
  { name: 'BIP340', reference: schnorr_FROST, parts: BIP340_PARTS as FrostSuiteParts<never>, verify: (sig, msg, key) => schnorr.verify(sig, msg, key.subarray(1)) },
];

const copy = (n: Nonces): Nonces => ({ hiding: Uint8Array.from(n.hiding), binding: Uint8Array.from(n.binding) });

describe.each(CASES)('FROST signShare and aggregate, ours against noble ($name)', ({ reference, parts, verify }) => {
  /** Ours over noble's core, with the core's signShare watched: it runs only when ours falls back. */
  const coreSignShare = vi.fn(reference.signShare);
  const ours = fastFrost({ ...reference, signShare: coreSignShare }, parts, verify);
  const Fn = parts.Fn;

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

  it('every signer of every 2-of-3 and 3-of-5 subset gets noble\'s share, and the aggregate is noble\'s signature', () => {
    for (const [t, n] of [[2, 3], [3, 5], [2, 3], [3, 5]] as const) {
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
        expect(verify(signature, msg, deal.public.commitments[0]!)).toBe(true);
      }
    }
  });

  it('keys and group commitments of both parities (BIP340 negates shares and nonces for odd Y) sign as noble', () => {
    // Watch which case each signature was: an odd-Y key negates shares, an odd-Y R negates nonces.
    const signingKey = vi.fn(parts.signingKey);
    const negatesNonces = vi.fn(parts.negatesNonces);
    const watched = fastFrost(reference, { ...parts, signingKey, negatesNonces }, verify);
    // Ed25519 has no parity rules: one case only.
    const cases = parts === (ED25519_PARTS as unknown) ? 1 : 4;
    const seen = new Set<string>();
    for (let attempt = 0; attempt < 64 && seen.size < cases; attempt++) {
      const { deal, ids, secret } = dealt(2, 3);
      for (let k = 0; k < 4; k++) {
        const signers = ids.slice(0, 2);
        const msg = randomBytes(32);
        const nonces = signers.map((id) => watched.commit(secret(id)));
        const list = nonces.map((n) => n.commitments);
        const copies = nonces.map((n) => copy(n.nonces));
        const shares: Record<string, Uint8Array> = {};
        signers.forEach((id, i) => {
          signingKey.mockClear();
          negatesNonces.mockClear();
          shares[id] = watched.signShare(secret(id), deal.public, nonces[i]!.nonces, list, msg);
          seen.add(`${signingKey.mock.results[0]!.value.negate}/${negatesNonces.mock.results[0]!.value}`);
          expect(shares[id]).toEqual(reference.signShare(secret(id), deal.public, copies[i]!, list, msg));
        });
        expect(watched.aggregate(deal.public, list, msg, shares)).toEqual(reference.aggregate(deal.public, list, msg, shares));
      }
    }
    expect(seen.size).toBe(cases);
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

  it('a list naming this signer twice (its own pair and one a coordinator chose) is refused, and the real list then signs as noble', () => {
    const { deal, ids, secret } = dealt(2, 3);
    const signers = ids.slice(0, 2);
    const { nonces, copies, list } = roundOne(secret, signers);
    const me = signers[0]!;
    const msg = randomBytes(32);
    const chosen = ours.commit(secret(ids[2]!)).commitments;
    // The same identifier again, and the same scalar spelled in capitals: both are duplicates.
    for (const identifier of [me, me.toUpperCase()]) {
      const doubled = [...list, { identifier, hiding: chosen.hiding, binding: chosen.binding }];
      expect(() => ours.signShare(secret(me), deal.public, nonces.get(me)!, doubled, msg)).toThrow(/duplicate identifiers/);
    }
    expect(ours.signShare(secret(me), deal.public, nonces.get(me)!, list, msg)).toEqual(reference.signShare(secret(me), deal.public, copies.get(me)!, list, msg));
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
    shares[cheat] = Fn.toBytes(Fn.add(Fn.fromBytes(shares[cheat]!), 1n));
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

describe('the suites\' verifiers remember what they accepted, and nothing else', () => {
  it.each([
    ['eddsa-ed25519' as const, (m: Uint8Array, sk: Uint8Array) => ed25519.sign(m, sk), (sk: Uint8Array) => ed25519.getPublicKey(sk)],
    ['schnorr-bip340' as const, (m: Uint8Array, sk: Uint8Array) => schnorr.sign(m, sk), (sk: Uint8Array) => schnorr.getPublicKey(sk)],
  ])('%s: an accepted signature does not pass for another message or key, nor with bytes moved between key and message', (scheme, sign, publicKeyOf) => {
    const suite = frostSuite(scheme);
    const sk = randomBytes(32);
    const pk = publicKeyOf(sk);
    const msg = randomBytes(40);
    const sig = sign(msg, sk);
    expect(suite.verify(sig, msg, pk)).toBe(true);
    expect(suite.verify(sig, msg, pk)).toBe(true); // remembered
    expect(suite.verify(sig, randomBytes(40), pk)).toBe(false);
    expect(suite.verify(sig, msg, publicKeyOf(randomBytes(32)))).toBe(false);
    // The same bytes, split differently: the digest of sig ‖ key ‖ message would match.
    expect(suite.verify(sig, Uint8Array.from([pk[31]!, ...msg]), pk.subarray(0, 31))).toBe(false);
    expect(suite.verify(sig.subarray(0, 63), Uint8Array.from([...pk.subarray(1), ...msg]), Uint8Array.from([sig[63]!, pk[0]!]))).toBe(false);
  });
});

describe('the BIP340 suite\'s MSM by libsecp256k1, on encodings', () => {
  it('equals noble\'s MSM over the full scalars for one to five random terms, zero scalars included', () => {
    const { Point } = secp256k1;
    const scalar = () => Point.Fn.create(BigInt('0x' + randomBytes(48).toString('hex')));
    for (let run = 0; run < 100; run++) {
      const n = 1 + (run % 5);
      const points = Array.from({ length: n }, () => Point.BASE.multiply(scalar()));
      const scalars = Array.from({ length: n }, scalar);
      if (run % 9 === 0) scalars[0] = 0n;
      const encoded = points.map((p) => Secp256k1Encoded.of(p.toBytes(true)));
      const [got, expected] = [BIP340_PARTS.msm(encoded, scalars), mulAddUnsafe(Point, points, scalars)];
      if (expected.is0()) expect(() => got.toBytes()).toThrow(/infinity/); // one term, scalar 0
      else expect(Buffer.from(got.toBytes()).toString('hex')).toBe(expected.toHex(true));
    }
  });
});
