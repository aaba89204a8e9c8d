/**
 * Sealed share store: seal (envelope-encrypt + synced LevelDB write) and unseal (read +
 * provider unwrap + decrypt) per operation, for the `local` provider and for `pkcs11` on
 * SoftHSM2 (when installed), and unseal with the cache cold versus warm.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalProtector } from '../cluster/providers/local.ts';
import type { ShareProtector } from '../cluster/providers/types.ts';
import { ShareStore } from '../node/store/share-store.ts';
import type { PartyId } from '../protocol/core/ids.ts';
import { measure, printTable, type Stats } from './stats.ts';

const SOFTHSM = process.env.SOFTHSM2_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
const RUNS = 300;

async function rows(label: string, protector: ShareProtector, dir: string): Promise<(Stats & { note?: string })[]> {
  const cold = await ShareStore.open({ dataDir: join(dir, label, 'cold'), nodeId: 'node-1', protector, cacheTtlMs: 0 });
  let i = 0;
  const share = new Uint8Array(600).fill(7); // about the size of an encoded FROST share
  const key = (id: string) => ({ keyId: id, scheme: 'eddsa-ed25519' as const, threshold: 2, parties: [1, 2, 3] as PartyId[], groupKey: new Uint8Array(32), chainCode: new Uint8Array(32) });
  const seal = await measure(`${label}: seal (wrap + synced write)`, () => cold.saveShare(key(`k${i++}`), share), RUNS);
  let j = 0;
  const unsealCold = await measure(`${label}: unseal, cache cold`, () => cold.loadShare(`k${j++ % i}`), RUNS);
  await cold.close();
  const warm = await ShareStore.open({ dataDir: join(dir, label, 'cold'), nodeId: 'node-1', protector });
  await warm.loadShare('k0');
  const unsealWarm = await measure(`${label}: unseal, cache warm`, () => warm.loadShare('k0'), RUNS);
  await warm.close();
  const perSecond = (s: Stats) => `${(1000 / s.medianMs).toFixed(0)} ops/s at the median`;
  return [
    { ...seal, note: perSecond(seal) },
    { ...unsealCold, note: perSecond(unsealCold) },
    { ...unsealWarm, note: perSecond(unsealWarm) },
  ];
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'store-bench-'));
  try {
    const out = await rows('local', await createLocalProtector({ type: 'local', keyFile: join(dir, 'kek') }), dir);
    if (existsSync(SOFTHSM)) {
      writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
      process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
      execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--pin', '1234', '--so-pin', '5678'], { stdio: 'ignore' });
      const { createPkcs11Protector } = await import('../cluster/providers/pkcs11.ts');
      const p = await createPkcs11Protector({ type: 'pkcs11', module: SOFTHSM, tokenLabel: 'bench', keyLabel: 'kek', pinEnv: 'P', sessions: 4 }, { P: '1234' });
      out.push(...(await rows('pkcs11 (SoftHSM2)', p, dir)));
    } else {
      console.log('SoftHSM2 not installed: pkcs11 rows skipped');
    }
    printTable('Sealed share store (LevelDB, fsync on every write)', out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
