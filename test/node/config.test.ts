import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCoordinatorConfig } from '../../coordinator/config.ts';
import { loadNodeConfig, protocolWorkerCount } from '../../node/config.ts';
import { createProtector } from '../../cluster/providers/index.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cfg-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const write = async (name: string, body: unknown) => {
  const file = join(dir, name);
  await writeFile(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
};
const good = { id: 1, listen: '127.0.0.1:7801', dataDir: 'n1', manifest: 'manifest.json', provider: { type: 'local', keyFile: 'k' } };

describe('configuration is validated at start-up, and errors name the bad field', () => {
  it('accepts a good node config and resolves its paths against the file', async () => {
    const c = await loadNodeConfig(await write('node.json', good));
    expect(c.dataDir).toBe(join(dir, 'n1'));
    expect(c.sessionTimeoutMs).toBe(60_000);
    expect(c.protocolWorkers).toBe('auto');
  });

  it('protocol workers: a count as given; auto is none below 4 cores, one per core but one from 4 on, at most 8', async () => {
    expect(protocolWorkerCount((await loadNodeConfig(await write('w.json', { ...good, protocolWorkers: 3 }))).protocolWorkers)).toBe(3);
    expect([2, 3, 4, 6, 32].map((cores) => protocolWorkerCount('auto', cores))).toEqual([0, 0, 3, 5, 8]);
    await expect(loadNodeConfig(await write('bad.json', { ...good, protocolWorkers: -1 }))).rejects.toThrow(/field `protocolWorkers`/);
  });

  it('names the field for every kind of mistake', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...good, id: 0 }, /field `id`/],
      [{ ...good, listen: 'nowhere' }, /field `listen`: expected host:port/],
      [{ ...good, provider: undefined }, /field `provider`/],
      [{ ...good, extra: true }, /extra/],
      ['{not json', /cannot read config/],
    ];
    for (const [body, message] of cases) await expect(loadNodeConfig(await write('bad.json', body))).rejects.toThrow(message);
    await expect(loadCoordinatorConfig(await write('c.json', { listen: '127.0.0.1:1', http: { port: 70000 }, dataDir: 'c', manifest: 'm', provider: { type: 'local' } }))).rejects.toThrow(/field `http.port`/);
  });

  it('refuses a bad provider section with the provider field named', async () => {
    await expect(createProtector({ type: 'pkcs11', module: '/x.so' })).rejects.toThrow(/provider\.tokenLabel/);
    await expect(createProtector({ type: 'aws', region: 'eu-west-1' })).rejects.toThrow(/provider\.keyId/);
    await expect(createProtector({ type: 'gcp', keyName: 'nope' })).rejects.toThrow(/provider\.keyName: expected projects/);
    await expect(createProtector({ type: 'hsm9000' })).rejects.toThrow(/unknown provider "hsm9000"/);
    await expect(createProtector({ type: 'local' })).rejects.toThrow(/provider\.keyFile or provider\.passphraseEnv/);
  });
});
