import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterMessage } from '../../cluster/control.ts';
import { openEnvelope, ReplayGuard, sealEnvelope } from '../../cluster/envelope.ts';
import { manifestPqVerifier } from '../../cluster/identity.ts';
import { createLocalProtector } from '../../cluster/providers/local.ts';
import { MlDsaSigner } from '../../cluster/providers/mldsa.ts';
import { manifestJson, parseManifest } from '../../cluster/transport/manifest.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import { DecodeError } from '../../protocol/core/errors.ts';

const keys = new Map<string, { priv: KeyObject; pub: KeyObject }>();
for (const m of ['coordinator', 'node-1', 'node-2']) {
  const k = generateKeyPairSync('ed25519');
  keys.set(m, { priv: k.privateKey, pub: k.publicKey });
}
const signer = (m: string) => (input: Uint8Array) => sign(null, input, keys.get(m)!.priv);
const verifier = (m: string, input: Uint8Array, s: Uint8Array) => !!keys.get(m) && verify(null, input, keys.get(m)!.pub, s);
const msg = (): ClusterMessage => ({ type: 'protocol', session: new Uint8Array(32).fill(1) as Bytes, keyId: 'k1', round: 2, message: new Uint8Array([1, 2, 3]) as Bytes });

describe('signed envelopes', () => {
  it('open only from the authenticated sender, for this recipient, untampered, once', () => {
    const sealed = sealEnvelope('node-1', 'node-2', msg(), signer('node-1'));
    const opened = openEnvelope(sealed, 'node-1', 'node-2', verifier);
    expect(opened.message).toMatchObject({ type: 'protocol', keyId: 'k1', round: 2 });
    expect(() => openEnvelope(sealed, 'coordinator', 'node-2', verifier)).toThrow(/claims node-1/);
    expect(() => openEnvelope(sealed, 'node-1', 'coordinator', verifier)).toThrow(/for node-2/);
    for (let i = 0; i < sealed.length; i += 5) {
      const bad = Uint8Array.from(sealed);
      bad[i]! ^= 1;
      expect(() => openEnvelope(bad, 'node-1', 'node-2', verifier)).toThrow(DecodeError);
    }
    const forged = sealEnvelope('node-1', 'node-2', msg(), signer('node-2')); // signed with another key
    expect(() => openEnvelope(forged, 'node-1', 'node-2', verifier)).toThrow(/bad envelope signature/);
    const guard = new ReplayGuard();
    expect(guard.fresh(opened.digest)).toBe(true);
    expect(guard.fresh(openEnvelope(sealed, 'node-1', 'node-2', verifier).digest)).toBe(false);
    expect(() => openEnvelope(new Uint8Array(7 * 1024 * 1024), 'node-1', 'node-2', verifier)).toThrow(/envelope too large/);
  });

  describe('with an ML-DSA-65 identity pinned in the manifest', () => {
    let dir: string;
    let pq: MlDsaSigner;
    let other: MlDsaSigner;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'env-'));
      const protector = await createLocalProtector({ type: 'local', keyFile: join(dir, 'kek') });
      pq = await MlDsaSigner.create(join(dir, 'a.json'), 'node-1', protector);
      other = await MlDsaSigner.create(join(dir, 'b.json'), 'node-1', protector);
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('requires the ML-DSA-65 signature too', async () => {
      const manifest = parseManifest(
        JSON.parse(
          manifestJson([
            { id: 'coordinator', identityKey: new Uint8Array(32).fill(1), address: '127.0.0.1:1' },
            { id: 'node-1', identityKey: new Uint8Array(32).fill(2), mldsaKey: await pq.publicKey(), address: '127.0.0.1:2' },
            { id: 'node-2', identityKey: new Uint8Array(32).fill(3), address: '127.0.0.1:3' },
          ]),
        ),
      );
      const pqVerify = manifestPqVerifier(manifest);
      const both = sealEnvelope('node-1', 'node-2', msg(), signer('node-1'), (i) => pq.signSync(i));
      expect(openEnvelope(both, 'node-1', 'node-2', verifier, pqVerify).message.type).toBe('protocol');
      const classicalOnly = sealEnvelope('node-1', 'node-2', msg(), signer('node-1'));
      expect(() => openEnvelope(classicalOnly, 'node-1', 'node-2', verifier, pqVerify)).toThrow(/ML-DSA-65/);
      const wrongPq = sealEnvelope('node-1', 'node-2', msg(), signer('node-1'), (i) => other.signSync(i));
      expect(() => openEnvelope(wrongPq, 'node-1', 'node-2', verifier, pqVerify)).toThrow(/ML-DSA-65/);
      // Members without a pinned ML-DSA key are checked on Ed25519 alone.
      const fromNode2 = sealEnvelope('node-2', 'node-1', msg(), signer('node-2'));
      expect(openEnvelope(fromNode2, 'node-2', 'node-1', verifier, pqVerify).message.type).toBe('protocol');
    });
  });
});
