/**
 * Our batched DKG parts 2 and 3 against noble's `DKG.round2/round3` on the same round-1
 * packages: same proofs accepted, same shares dealt, same key package out. noble gives a
 * `schnorr-bip340` DKG key the BIP86 Taproot tweak; ours stays the internal key, and our signing-time
 * tweak (protocol/schemes/taproot.ts + the x-only share tweak) must reach noble's package exactly.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { combineShares, evaluatePolynomial, proveKnowledge, shareMatchesCommitment, verifyProofOfKnowledge } from '../../protocol/threshold/dkg-math.ts';
import { frostSuite, FROST_SCHEMES } from '../../protocol/curves/ciphersuites.ts';
import { partyId, type PartyId } from '../../protocol/core/ids.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import { tapTweak } from '../../protocol/schemes/index.ts';
import { tweakFrostKeyShare } from '../../protocol/threshold/tweak.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe.each(FROST_SCHEMES)('DKG proof of knowledge bound to its session (%s)', (scheme) => {
  it('verifies in its own session only: not in another, not as the RFC\'s unbound proof, not for another dealer', () => {
    const { frost } = frostSuite(scheme);
    const r1 = frost.DKG.round1(frostSuite(scheme).identifier(partyId(3)), { min: 2, max: 3 });
    const session = new Uint8Array(randomBytes(32));
    const proof = proveKnowledge(scheme, 3, r1.secret.coefficients![0]!, session, (n) => new Uint8Array(randomBytes(n)));
    const pkg = { from: 3, commitment: r1.public.commitment, proofOfKnowledge: proof };
    expect(verifyProofOfKnowledge(scheme, pkg, session)).toBe(true);
    expect(verifyProofOfKnowledge(scheme, pkg, new Uint8Array(randomBytes(32)))).toBe(false);
    expect(verifyProofOfKnowledge(scheme, pkg)).toBe(false);
    expect(verifyProofOfKnowledge(scheme, { ...pkg, from: 2 }, session)).toBe(false);
    // ... and noble's RFC proof is not accepted where a session-bound one is required.
    expect(verifyProofOfKnowledge(scheme, { ...pkg, proofOfKnowledge: r1.public.proofOfKnowledge }, session)).toBe(false);
  });
});

describe.each(FROST_SCHEMES)('DKG math equals noble (%s)', (scheme) => {
  it('accepts the same proofs, deals the same shares and outputs the same key package', () => {
    const { frost } = frostSuite(scheme);
    const identifier = (i: number) => frostSuite(scheme).identifier(partyId(i));
    const n = 4;
    const t = 3;
    const ids = [1, 2, 3, 4];
    const r1 = new Map(ids.map((i) => [i, frost.DKG.round1(identifier(i), { min: t, max: n })] as const));
    for (const i of ids) {
      expect(verifyProofOfKnowledge(scheme, { from: i, commitment: r1.get(i)!.public.commitment, proofOfKnowledge: r1.get(i)!.public.proofOfKnowledge })).toBe(true);
      // A proof moved to another dealer does not verify.
      expect(verifyProofOfKnowledge(scheme, { from: (i % n) + 1, commitment: r1.get(i)!.public.commitment, proofOfKnowledge: r1.get(i)!.public.proofOfKnowledge })).toBe(false);
    }
    const others = (i: number) => ids.filter((j) => j !== i).map((j) => r1.get(j)!.public);
    const dealt = new Map(ids.map((i) => [i, frost.DKG.round2(r1.get(i)!.secret, others(i))] as const));
    for (const i of ids) for (const j of ids.filter((x) => x !== i)) expect(hex(evaluatePolynomial(scheme, r1.get(i)!.secret.coefficients!, j))).toBe(hex(dealt.get(i)![identifier(j)]!.signingShare));
    const me = 2;
    const received = ids.filter((j) => j !== me).map((j) => ({ identifier: identifier(j), signingShare: dealt.get(j)![identifier(me)]!.signingShare }));
    const shares = new Map<number, Uint8Array>([[me, evaluatePolynomial(scheme, r1.get(me)!.secret.coefficients!, me)], ...ids.filter((j) => j !== me).map((j) => [j, dealt.get(j)![identifier(me)]!.signingShare] as const)]);
    const commitments = new Map(ids.map((i) => [i, r1.get(i)!.public.commitment] as const));
    const combined = combineShares(scheme, me, ids, commitments, shares)!;
    const noble = frost.DKG.round3(r1.get(me)!.secret, others(me), received);
    const ours = scheme === 'schnorr-bip340' ? bip86Tweaked(combined, me, t, ids.map(partyId)) : combined;
    if (scheme === 'schnorr-bip340') expect(hex(combined.groupKey)).not.toBe(hex(noble.public.commitments[0]!)); // untweaked
    expect(hex(ours.signingShare)).toBe(hex(noble.secret.signingShare));
    expect(ours.commitments.map(hex)).toEqual(noble.public.commitments.map(hex));
    for (const i of ids) expect(hex((ours.verifyingShares as ReadonlyMap<number, Uint8Array>).get(i)!)).toBe(hex(noble.public.verifyingShares[identifier(i)]!));
    // A wrong share fails the batched check and the per-dealer check names its dealer.
    const bad = new Map(shares);
    bad.set(3, evaluatePolynomial(scheme, [1n], 1));
    expect(combineShares(scheme, me, ids, commitments, bad)).toBeUndefined();
    expect(shareMatchesCommitment(scheme, me, bad.get(3)!, commitments.get(3)!)).toBe(false);
    expect(shareMatchesCommitment(scheme, me, shares.get(3)!, commitments.get(3)!)).toBe(true);
  });
});

/** The BIP86 key-path tweak of a DKG result, as a signer applies it at signing time. */
function bip86Tweaked(r: NonNullable<ReturnType<typeof combineShares>>, me: number, t: number, ids: PartyId[]) {
  const share = {
    scheme: 'schnorr-bip340' as const,
    self: partyId(me),
    threshold: t,
    parties: ids,
    groupKey: r.groupKey as Bytes,
    commitments: r.commitments as Bytes[],
    verifyingShares: r.verifyingShares as Map<PartyId, Bytes>,
    signingShare: r.signingShare as Bytes,
  };
  return tweakFrostKeyShare(share, tapTweak(r.groupKey), { mode: 'x-only' });
}
