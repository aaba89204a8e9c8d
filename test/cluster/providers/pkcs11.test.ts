/**
 * The pkcs11 provider against a real SoftHSM2 token (Debian `softhsm2`), created in a
 * throwaway directory through SOFTHSM2_CONF.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, describe, expect, it } from 'vitest';
import { createPkcs11Protector } from '../../../cluster/providers/pkcs11.ts';
import { ShareStore } from '../../../node/store/share-store.ts';
import type { PartyId } from '../../../protocol/core/ids.ts';
import { SOFTHSM2_MODULE } from '../../support/softhsm.ts';

const MODULE = SOFTHSM2_MODULE;
const available = existsSync(MODULE);
if (!available) console.warn(`\n!!! SoftHSM2 is not installed at ${MODULE} (apt-get install -y softhsm2, or set SOFTHSM2_MODULE): the PKCS#11 tests are SKIPPED !!!\n`);

const dir = mkdtempSync(join(tmpdir(), 'softhsm-'));
writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
if (available) execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'mpc-test', '--pin', '1234', '--so-pin', '5678'], { stdio: 'ignore' });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = { type: 'pkcs11' as const, module: MODULE, tokenLabel: 'mpc-test', keyLabel: 'kek-1', pinEnv: 'TEST_PIN', sessions: 4 };

describe.runIf(available)('pkcs11 provider on SoftHSM2', () => {
  it('wraps and unwraps inside the HSM, bound to the associated data', async () => {
    const p = await createPkcs11Protector(config, { TEST_PIN: '1234' });
    const dataKey = new Uint8Array(32).fill(5);
    const aad = new TextEncoder().encode('node-1/key/ed25519/0');
    const w = await p.wrapKey(dataKey, aad);
    expect(w.kekRef).toBe('pkcs11:mpc-test/kek-1');
    expect(Buffer.from(await p.unwrapKey(w, aad))).toEqual(Buffer.from(dataKey));
    await expect(p.unwrapKey(w, new TextEncoder().encode('node-2/key/ed25519/0'))).rejects.toMatchObject({ code: 'unwrap_failed' });
    const tampered = { ...w, wrapped: Uint8Array.from(w.wrapped) };
    tampered.wrapped[20]! ^= 1;
    await expect(p.unwrapKey(tampered, aad)).rejects.toMatchObject({ code: 'unwrap_failed' });
    // The same key is found again by label, not created twice.
    const again = await createPkcs11Protector(config, { TEST_PIN: '1234' });
    expect(Buffer.from(await again.unwrapKey(w, aad))).toEqual(Buffer.from(dataKey));
  });

  it('keeps the key-encryption key inside: sensitive, not extractable, CKA_VALUE unreadable', async () => {
    const p = await createPkcs11Protector(config, { TEST_PIN: '1234' });
    await p.withSession((lib, session) => {
      const attrs = lib.C_GetAttributeValue(session, p.kekHandle, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_TOKEN }]);
      expect(attrs.map((a) => (a.value as Buffer)[0])).toEqual([1, 0, 1]);
      expect(() => lib.C_GetAttributeValue(session, p.kekHandle, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    });
  });

  it('refuses a wrong PIN with a clear error (in a fresh process: PKCS#11 login state is per process)', async () => {
    const script = join(dir, 'wrong-pin.ts');
    const module = new URL('../../../cluster/providers/pkcs11.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { createPkcs11Protector } from ${JSON.stringify(module)};
try { await createPkcs11Protector(${JSON.stringify(config)}, { TEST_PIN: '9999' }); console.log('accepted'); }
catch (e) { console.log(e.code + ': ' + e.message); }`,
    );
    const out = execFileSync(process.execPath, [script], { env: { ...process.env }, encoding: 'utf8' });
    expect(out).toMatch(/^auth_failed: pkcs11: the PIN for token mpc-test is wrong/);
    await expect(createPkcs11Protector(config, {})).rejects.toMatchObject({ code: 'misconfigured' });
  });

  it('seals and unseals 100 shares concurrently through the store', async () => {
    const protector = await createPkcs11Protector(config, { TEST_PIN: '1234' });
    const store = await ShareStore.open({ dataDir: join(dir, 'node'), nodeId: 'node-1', protector, cacheTtlMs: 0 });
    const ids = Array.from({ length: 100 }, (_, i) => `k${i}`);
    await Promise.all(
      ids.map((id, i) =>
        store.saveShare({ keyId: id, scheme: 'eddsa-ed25519', threshold: 2, parties: [1, 2] as PartyId[], groupKey: new Uint8Array(32), chainCode: new Uint8Array(32) }, new Uint8Array(48).fill(i)),
      ),
    );
    const loaded = await Promise.all(ids.map((id) => store.loadShare(id)));
    loaded.forEach((l, i) => expect(l!.share.every((b) => b === i)).toBe(true));
    await store.close();
  });
});
