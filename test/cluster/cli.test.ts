/**
 * The operator's offline commands, run as the `mpc` binary does: init-node / init-coordinator
 * (identity sealed by the provider), rewrap (provider key rotation), token create (only the
 * SHA-256 kept), and usage errors (exit 2, the reason on stderr). The API commands run against a
 * real cluster in processes.test.ts.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initCluster } from '../../coordinator/cluster-init.ts';
import { loadIdentity } from '../../cluster/identity.ts';
import { createProtector } from '../../cluster/providers/index.ts';
import { identityFile } from '../../node/main.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

async function mpc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return mpcWith({ MPC_API_TOKEN: '' }, ...args);
}

async function mpcWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/mpc.ts'), ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mpc-cli-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('mpc (offline commands)', () => {
  it('init-node and init-coordinator seal a new identity under the provider and print its public key', async () => {
    const layout = await initCluster({ dataDir: dir, nodes: 2, threshold: 2, port: 19100, apiToken: 'x'.repeat(32) });
    for (const m of layout.members) {
      const config = JSON.parse(await readFile(m.config, 'utf8')) as { dataDir: string; provider: { type: string } };
      await rm(identityFile(config.dataDir), { force: true });
      const res = await mpc(m.role === 'coordinator' ? 'init-coordinator' : 'init-node', '--config', m.config);
      expect(res.code, res.stderr).toBe(0);
      const printed = res.stdout.trim();
      expect(printed).toMatch(/^[0-9a-f]{64}$/);
      const identity = await loadIdentity(identityFile(config.dataDir), m.id, await createProtector(config.provider));
      expect(Buffer.from(identity.publicKey).toString('hex')).toBe(printed);
      // A second init refuses to overwrite the sealed identity.
      const again = await mpc(m.role === 'coordinator' ? 'init-coordinator' : 'init-node', '--config', m.config);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^mpc: /);
    }
  });

  it('rewrap moves the node to a new provider key, prints the count and can be run again', async () => {
    const layout = await initCluster({ dataDir: dir, nodes: 2, threshold: 2, port: 19110, apiToken: 'x'.repeat(32) });
    const node = layout.members.find((m) => m.id === 'node-1')!;
    const next = { type: 'local', keyFile: join(dir, 'next-kek.hex') };
    await writeFile(join(dir, 'next.json'), JSON.stringify(next));
    const first = await mpc('rewrap', '--config', node.config, '--to', join(dir, 'next.json'));
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ dataKeys: 0 });
    const config = JSON.parse(await readFile(node.config, 'utf8')) as { dataDir: string; provider: unknown };
    expect(config.provider).toEqual(next);
    await expect(loadIdentity(identityFile(config.dataDir), 'node-1', await createProtector(next))).resolves.toMatchObject({ member: 'node-1' });
    expect((await mpc('rewrap', '--config', node.config, '--to', join(dir, 'next.json'))).code).toBe(0);
  });

  it('token create prints a token once and stores only its SHA-256 with its scopes', async () => {
    const file = join(dir, 'tokens.json');
    const res = await mpc('token', 'create', '--file', file, '--name', 'ci', '--scopes', 'sign,keys:read');
    expect(res.code, res.stderr).toBe(0);
    const token = res.stdout.trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    const stored = await readFile(file, 'utf8');
    expect(stored).not.toContain(token);
    expect(JSON.parse(stored).tokens).toEqual([{ name: 'ci', sha256: createHash('sha256').update(token).digest('hex'), scopes: ['sign', 'keys:read'] }]);
    const dup = await mpc('token', 'create', '--file', file, '--name', 'ci', '--scopes', 'sign');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/ci/);
  });

  it('usage errors exit 2 and say what is missing; --help teaches every command and option', async () => {
    const noScheme = await mpc('keys', 'create');
    expect(noScheme.code).toBe(2);
    expect(noScheme.stderr).toMatch(/required option '--scheme <scheme>' not specified/);
    const badScheme = await mpc('keys', 'create', '--scheme', 'rsa');
    expect(badScheme.code).toBe(2);
    expect(badScheme.stderr).toMatch(/Allowed choices are ecdsa-secp256k1, eddsa-ed25519, schnorr-bip340/);
    const unknown = await mpc('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    expect((await mpc('rewrap', '--config', 'x.json')).code).toBe(2);
    expect((await mpc('keys', 'create', '--scheme', 'ecdsa-secp256k1', '--nodes', '1;2')).stderr).toMatch(/expected node ids like 1,2,3/);
    const help = await mpc('--help');
    expect(help.code).toBe(0);
    for (const command of ['start-node', 'keys', 'key', 'sign', 'backup', 'audit', 'token', 'health']) expect(help.stdout).toContain(command);
    expect(help.stdout).toMatch(/Exit codes: 0 done, 1 refused or failed, 2 usage error, 3 coordinator unreachable/);
    const signHelp = await mpc('sign', '--help');
    for (const option of ['--path', '--hash', '--taproot', '--merkle-root', '--text']) expect(signHelp.stdout).toContain(option);
    expect((await mpc('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('an unreachable coordinator exits 3 and names the URL with a hint', async () => {
    const noToken = await mpc('--url', 'http://127.0.0.1:9', 'health');
    expect([noToken.code, noToken.stderr]).toEqual([2, expect.stringMatching(/no API token: set MPC_API_TOKEN/)]);
    const res = await mpcWith({ MPC_API_TOKEN: 't'.repeat(32) }, '--url', 'http://127.0.0.1:9', 'health');
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9.*is the cluster running\? \(`npm start`/);
  });
});
