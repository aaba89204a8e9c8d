/**
 * Administrator signatures over a policy hash: distinct, listed administrators, each signature
 * over this very hash, and for an administrator whose manifest entry pins an ML-DSA-65 key, an
 * ML-DSA-65 signature beside the Ed25519 one (Node's native ML-DSA, not our code, makes it).
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminSigningInput, checkAdminSignatures, signPolicyHash } from '../../cluster/policy/administrators.ts';
import { parseManifest } from '../../cluster/transport/manifest.ts';
import { testSigner } from '../support/policy.ts';

const SPKI_PREFIX_LENGTH = 22;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('administrator signatures', () => {
  const alice = testSigner('alice');
  const bob = testSigner('bob');
  const pq = generateKeyPairSync('ml-dsa-65');
  const pqRaw = new Uint8Array(pq.publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX_LENGTH));
  // The administrators as a manifest lists them (parsed by the manifest's own code).
  const manifest = parseManifest({
    version: 1,
    members: [
      { id: 'coordinator', identityKey: hex(testSigner('c').publicKey), address: '127.0.0.1:1' },
      { id: 'node-1', identityKey: hex(testSigner('n').publicKey), address: '127.0.0.1:2' },
    ],
    administrators: { threshold: 2, members: [{ id: 'alice', identityKey: hex(alice.publicKey) }, { id: 'bob', identityKey: hex(bob.publicKey), mldsaKey: hex(pqRaw) }] },
  });
  const hash = new Uint8Array(32).fill(7);
  const other = new Uint8Array(32).fill(8);

  it('count an ML-DSA administrator only with both signatures over this hash', () => {
    const aliceSig = { admin: 'alice', signature: signPolicyHash(alice.seed, hash) };
    const bobClassical = { admin: 'bob', signature: signPolicyHash(bob.seed, hash) };
    expect(checkAdminSignatures(manifest.administrators, hash, [aliceSig, bobClassical])).toMatchObject({ ok: false, reason: expect.stringMatching(/has 1 valid .*bob's signature does not verify \(ML-DSA-65\)/) });
    const bobBoth = { ...bobClassical, mldsaSignature: new Uint8Array(sign(null, adminSigningInput(hash), pq.privateKey)) };
    expect(checkAdminSignatures(manifest.administrators, hash, [aliceSig, bobBoth])).toEqual({ ok: true, signers: ['alice', 'bob'] });
    const bobOther = { ...bobClassical, mldsaSignature: new Uint8Array(sign(null, adminSigningInput(other), pq.privateKey)) };
    expect(checkAdminSignatures(manifest.administrators, hash, [aliceSig, bobOther]).ok).toBe(false);
  });

  it('count each administrator once, and nobody the manifest does not list', () => {
    const twice = [{ admin: 'alice', signature: signPolicyHash(alice.seed, hash) }, { admin: 'alice', signature: signPolicyHash(alice.seed, hash) }];
    expect(checkAdminSignatures(manifest.administrators, hash, twice)).toMatchObject({ ok: false, reason: expect.stringMatching(/has 1 valid/) });
    const carol = testSigner('carol');
    expect(checkAdminSignatures(manifest.administrators, hash, [twice[0]!, { admin: 'carol', signature: signPolicyHash(carol.seed, hash) }])).toMatchObject({ ok: false, reason: expect.stringMatching(/carol is not an administrator/) });
    expect(checkAdminSignatures(undefined, hash, twice)).toMatchObject({ ok: false, reason: expect.stringMatching(/names no policy administrators/) });
  });
});
