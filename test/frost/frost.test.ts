import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { array, bytes, decodeCbor, encodeCbor, Party, sessionId, signBroadcast, struct, type PartyId } from '../../protocol/core/index.ts';
import { inProcessAuth } from '../../protocol/testing/index.ts';
import { frostSign, frostSignProtocol } from '../../protocol/frost/index.ts';
import { FROST_SCHEMES, frostSuite, type FrostScheme } from '../../protocol/curves/ciphersuites.ts';
import { toNoble, type FrostKeyShare } from '../../protocol/threshold/index.ts';
import { frostKeys, partyRange, runFrostDkg, runFrostSign, systemRng } from '../../protocol/testing/frost.ts';
import { frostSignatureVerifies, subsets } from '../support/verifiers.ts';

const msg = new TextEncoder().encode('threshold signatures for everyone');

function signOk(keys: Map<PartyId, FrostKeyShare>, signers: PartyId[], message = msg) {
  const { outputs, aborts } = runFrostSign(keys, signers, message);
  expect(aborts.size).toBe(0);
  expect(outputs.size).toBe(signers.length);
  return [...outputs.values()][0]!;
}

describe.each(FROST_SCHEMES)('FROST %s', (scheme) => {
  it('DKG gives every party the same group key and a signature that an independent verifier accepts', () => {
    const keys = frostKeys(scheme, 2, 3);
    const groupKeys = new Set([...keys.values()].map((k) => Buffer.from(k.groupKey).toString('hex')));
    expect(groupKeys.size).toBe(1);
    const out = signOk(keys, partyRange(2));
    const suite = frostSuite(scheme);
    expect(out.signature.length).toBe(suite.signatureBytes);
    expect(out.publicKey.length).toBe(scheme === 'schnorr-bip340' || scheme === 'eddsa-ed25519' ? 32 : 33);
    expect(frostSignatureVerifies(scheme, out.signature, msg, out.publicKey)).toBe(true);
    expect(frostSignatureVerifies(scheme, out.signature, new TextEncoder().encode('other'), out.publicKey)).toBe(false);
  });

  it('for every n <= 5 and t: every t-subset signs, t-1 signers cannot start, t-1 shares do not combine', () => {
    const suite = frostSuite(scheme);
    for (let n = 2; n <= 5; n++) {
      for (let t = 2; t <= n; t++) {
        const keys = frostKeys(scheme, t, n);
        for (const signers of subsets(partyRange(n), t)) {
          const out = signOk(keys, signers);
          expect(frostSignatureVerifies(scheme, out.signature, msg, out.publicKey)).toBe(true);
        }
        const short = partyRange(t - 1);
        const key = keys.get(short[0]!)!;
        expect(() =>
          new Party({ protocol: frostSignProtocol(key), session: sessionId(systemRng(32)), self: short[0]!, parties: short, rng: systemRng }, frostSign(key, msg)).begin(),
        ).toThrow(/needs at least/);
        // Interpolating any t-1 shares gives a key that does not sign for the group key.
        for (const few of subsets(partyRange(n), t - 1)) {
          const secrets = few.map((p) => toNoble(keys.get(p)!).secret);
          const guess = few.length === 1 ? secrets[0]!.signingShare : suite.frost.combineSecret(secrets, { min: t - 1, max: n });
          const forged = suite.frost.sign(msg, guess);
          expect(suite.frost.verify(forged, msg, key.groupKey)).toBe(false);
        }
      }
    }
  });

  it('property: random (t, n, signer subset) up to n = 10 signs and verifies', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n }), fc.shuffledSubarray(partyRange(n), { minLength: 1 }))),
        ([n, t, pool]) => {
          const keys = frostKeys(scheme, t, n);
          const signers = [...pool, ...partyRange(n).filter((p) => !pool.includes(p))].slice(0, Math.max(t, Math.min(pool.length, n))).sort((a, b) => a - b);
          const out = signOk(keys, signers);
          return frostSignatureVerifies(scheme, out.signature, msg, out.publicKey);
        },
      ),
      { numRuns: 8 },
    );
  });
});

describe('malicious parties are caught and named', () => {
  const scheme: FrostScheme = 'eddsa-ed25519';

  it('a bad proof of knowledge aborts the DKG naming its sender', () => {
    // Party 2 itself broadcasts (consistently, and signed) a package whose proof does not verify.
    const { aborts, outputs } = runFrostDkg(scheme, 2, 3, {
      byzantine: (self, honest) =>
        self !== 2
          ? honest
          : (ctx) => {
              const t = honest(ctx);
              const payload = Uint8Array.from(t.send.broadcast!);
              payload[payload.length - 1]! ^= 1;
              return { ...t, send: { broadcast: payload } };
            },
    });
    expect(outputs.size).toBe(0);
    for (const id of [1, 3] as PartyId[]) {
      expect(aborts.get(id)?.reason).toBe('invalid_proof');
      expect(aborts.get(id)?.culprits).toEqual([2]);
    }
  });

  it('an equivocated round-1 broadcast aborts the DKG naming the equivocator', () => {
    // Party 2 sends party 3 a second, perfectly valid and signed round-1 package.
    const ids = partyRange(3);
    const auth = inProcessAuth(ids);
    const suite = frostSuite(scheme);
    const round1 = struct({ chainCodeCommitment: bytes(32), commitment: array(suite.point, 2), proofOfKnowledge: bytes(64) });
    const other = suite.frost.DKG.round1(suite.identifier(2 as PartyId), { min: 2, max: 3 }).public;
    const { aborts } = runFrostDkg(scheme, 2, 3, {
      auth,
      intercept: (m, to) => {
        if (m.from !== 2 || m.round !== 1 || to !== 3 || m.kind !== 'broadcast') return [m];
        const payload = encodeCbor(round1, { chainCodeCommitment: new Uint8Array(32), commitment: other.commitment, proofOfKnowledge: other.proofOfKnowledge });
        return [{ ...m, payload, signature: signBroadcast(m, auth.get(2 as PartyId)!, 1, m.from, payload) }];
      },
    });
    expect(aborts.size).toBeGreaterThanOrEqual(2);
    for (const [id, a] of aborts) {
      if (id === 2) continue;
      expect(a.reason).toBe('equivocation');
      expect(a.culprits).toEqual([2]);
    }
  });

  it('a wrong DKG secret share aborts naming its dealer', () => {
    const share = struct({ signingShare: frostSuite(scheme).scalar, chainCodeContribution: bytes(32) });
    const { aborts } = runFrostDkg(scheme, 2, 3, {
      intercept: (m) =>
        m.from === 3 && m.round === 2 && m.kind === 'direct' && m.to === 1
          ? [{ ...m, payload: encodeCbor(share, { ...decodeCbor(share, m.payload), signingShare: scalarOne() }) }]
          : [m],
    });
    expect(aborts.get(1 as PartyId)?.reason).toBe('invalid_share');
    expect(aborts.get(1 as PartyId)?.culprits).toEqual([3]);
  });

  // The aggregate fails its suite's verifier (BIP340: libsecp256k1's for a 32-byte message,
  // noble's for other lengths), and noble's aggregate names the share.
  it.each([
    ['eddsa-ed25519', msg.length, msg],
    ['schnorr-bip340', msg.length, msg],
    ['schnorr-bip340', 32, msg.subarray(0, 32)],
  ] as const)('a wrong signature share aborts signing naming its signer (%s, %i-byte message)', (signing, _length, message) => {
    const keys = frostKeys(signing, 2, 3);
    const share = struct({ share: frostSuite(signing).scalar });
    const { aborts, outputs } = runFrostSign(keys, partyRange(3), message, {
      intercept: (m) => (m.from === 2 && m.round === 2 ? [{ ...m, payload: encodeCbor(share, { share: scalarOne(signing) }) }] : [m]),
    });
    expect(outputs.size).toBe(1); // party 2 itself finishes with honest shares from the others
    for (const id of [1, 3] as PartyId[]) {
      expect(aborts.get(id)?.reason).toBe('invalid_signature_share');
      expect(aborts.get(id)?.culprits).toEqual([2]);
    }
  });
});

function scalarOne(scheme: FrostScheme = 'eddsa-ed25519'): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(32);
  if (scheme === 'eddsa-ed25519') b[0] = 1; // little-endian 1 for ed25519
  else b[31] = 1; // big-endian for secp256k1
  return b;
}

