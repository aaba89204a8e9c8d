/**
 * The real thing: `npm start`'s launcher brings up a coordinator and three node processes on
 * loopback; the test talks to the HTTP API like a user, kills processes with SIGKILL and
 * restarts them with the CLI, and verifies every signature with independent verifiers. Its nodes
 * run their signing sessions on a protocol worker thread each (the simulations over processes run
 * them on the main thread), so both ways are exercised on real processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { opensslEcdsaVerifies, opensslEd25519Verifies } from '../support/verifiers.ts';
import { MpcApiError, MpcClient } from 'mpc-signer/client';
import { until } from '../support/until.ts';
import { memberV8Flags } from '../../cluster/v8-flags.ts';
import { freeClusterPort } from '../../simulations/ports.ts';

const SCHEMES = ['eddsa-ed25519', 'schnorr-bip340', 'ecdsa-secp256k1'] as const;
const ROOT = resolve(import.meta.dirname, '../..');
const PORT = await freeClusterPort();
const BASE = `http://127.0.0.1:${PORT}`;
const TOKEN = 'test-token-' + 'x'.repeat(24);

interface ClusterFile {
  processes: { role: string; id: string; pid: number; config: string }[];
}

let dataDir: string;
let launcher: ChildProcess;
const restarted: ChildProcess[] = [];
/** When a test fails, the data directory and every process's log (dataDir/logs) are kept for the post-mortem. */
let failed = false;
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

/** Starts a process with its output appended to dataDir/logs/<name>.log (kept when a test fails). */
function launch(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const log = createWriteStream(join(dataDir, `${name}.log`), { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

/** The cluster's API through the typed client (no retries: each test sees every answer). */
const api = new MpcClient({ baseUrl: BASE, token: TOKEN, retries: 0 });
/** The answer's error code, or 'ok'. */
const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: MpcApiError) => e.code);

/** Raw HTTP, for what the client never sends: malformed bodies, missing or wrong tokens. */
async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const healthy = async () => (await api.health()).status === 'ok';
const cluster = async (): Promise<ClusterFile> => JSON.parse(await readFile(join(dataDir, 'cluster.json'), 'utf8')) as ClusterFile;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function restartNode(id: string): Promise<void> {
  const entry = (await cluster()).processes.find((p) => p.id === id)!;
  restarted.push(launch(`logs/${id}-restarted`, [join(ROOT, 'bin/mpc.ts'), 'start-node', '--config', entry.config]));
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mpc-cluster-'));
  launcher = launch('launcher', [join(ROOT, 'coordinator/cluster.ts'), '--nodes', '3', '--port', String(PORT), '--data-dir', dataDir, '--protocol-workers', '1'], { ...process.env, MPC_API_TOKEN: TOKEN });
  await until('a healthy cluster', healthy, { within: 60_000, every: 100, errors: 'retry' });
}, 90_000);

afterAll(async () => {
  for (const c of restarted) c.kill('SIGKILL');
  const launcherGone = launcher && launcher.exitCode === null ? new Promise((r) => launcher.once('exit', r)) : Promise.resolve();
  launcher?.kill('SIGTERM');
  await launcherGone;
  const processes = (await cluster().catch(() => ({ processes: [] }))).processes;
  for (const p of processes) kill(p.pid);
  await until('every process to exit', async () => processes.every((p) => !alive(p.pid)), { within: 10_000, every: 100, errors: 'retry' }).catch(() => undefined);
  if (failed) console.error(`a test failed: the cluster's data and logs are kept in ${dataDir} (logs/ and launcher.log)`);
  else await rm(dataDir, { recursive: true, force: true });
}, 30_000);


describe('local cluster of real processes (coordinator + 3 nodes on loopback)', () => {
  const keys: Record<string, { id: string; publicKey: string }> = {};

  it('creates a key of each scheme and signs; signatures verify with OpenSSL (Ed25519, ECDSA) and noble (BIP340)', async () => {
    for (const scheme of SCHEMES) {
      const created = await api.createKey({ scheme });
      expect(created).toMatchObject({ scheme, threshold: 2, nodes: [1, 2, 3] });
      keys[scheme] = created;
    }
    const text = Buffer.from('hello from the cluster');
    const ed = await api.sign(keys['eddsa-ed25519']!.id, { message: text.toString('hex') });
    expect(opensslEd25519Verifies(Buffer.from(ed.signature, 'hex'), text, Buffer.from(ed.publicKey, 'hex'))).toBe(true);

    const digest = createHash('sha256').update(text).digest();
    const tr = await api.sign(keys['schnorr-bip340']!.id, { message: digest.toString('hex') });
    expect(schnorr.verify(Buffer.from(tr.signature, 'hex'), digest, Buffer.from(tr.publicKey, 'hex'))).toBe(true);

    const ec = await api.sign(keys['ecdsa-secp256k1']!.id, { message: digest.toString('hex') });
    expect(opensslEcdsaVerifies(Buffer.from(ec.signature, 'hex'), text, Buffer.from(ec.publicKey, 'hex'))).toBe(true);
    expect([0, 1]).toContain(ec.recoveryId);
    const recovered = secp256k1.Signature.fromBytes(Buffer.from(ec.signature, 'hex'), 'compact').addRecoveryBit(ec.recoveryId!).recoverPublicKey(digest);
    expect(Buffer.from(recovered.toBytes(true)).toString('hex')).toBe(keys['ecdsa-secp256k1']!.publicKey);
  });

  it('every member runs with the garbage collector MPC_V8_GC picks for this machine (one GC thread on fewer than 4 cores)', async () => {
    const procs = (await cluster()).processes;
    expect(procs).toHaveLength(4);
    for (const p of procs) {
      const argv = (await readFile(`/proc/${p.pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      const script = argv.findIndex((a) => a.endsWith('bin/mpc.ts'));
      expect(argv.slice(1, script), p.id).toEqual(memberV8Flags());
    }
  });

  it('the API token reaches the coordinator process only: no node process has it in its environment or its files', async () => {
    const procs = (await cluster()).processes;
    const envOf = async (pid: number) => (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
    expect(await envOf(procs.find((p) => p.role === 'coordinator')!.pid)).toContain(`MPC_API_TOKEN=${TOKEN}`);
    for (const node of procs.filter((p) => p.role === 'node')) {
      expect((await envOf(node.pid)).some((e) => e.startsWith('MPC_API_TOKEN='))).toBe(false);
      expect(await readFile(node.config, 'utf8')).not.toContain(TOKEN);
    }
  });

  it('bad inputs get the right 4xx JSON error and the cluster stays healthy', async () => {
    const ed = keys['eddsa-ed25519']!.id;
    const ec = keys['schnorr-bip340']!.id;
    const cases: [string, string, unknown, number, Record<string, string>?][] = [
      ['POST', '/v1/keys', '{"scheme":', 400],
      ['POST', `/v1/keys/${ed}/sign`, { message: 'zz' }, 400],
      ['POST', `/v1/keys/${ec}/sign`, { message: 'abcd' }, 400],
      ['POST', '/v1/keys/no-such-key/sign', { message: '00'.repeat(32) }, 404],
      ['POST', '/v1/keys', { scheme: 'rsa-2048' }, 400],
      ['POST', '/v1/keys', { scheme: 'eddsa-ed25519', threshold: 4 }, 400],
      ['POST', `/v1/keys/${ed}/sign`, { message: '00'.repeat(2 * 1024 * 1024) }, 413],
      ['GET', '/v1/keys', undefined, 401, { authorization: '' }],
      ['GET', '/v1/keys', undefined, 401, { authorization: 'Bearer wrong' }],
    ];
    for (const [method, path, body, status, headers] of cases) {
      const res = await raw(method, path, body, headers);
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.body.error.code).toMatch(/^[a-z_]+$/);
      expect(typeof res.body.error.message).toBe('string');
    }
    expect(await healthy()).toBe(true);
    expect((await api.listKeys()).keys).toHaveLength(SCHEMES.length);
  });

  it('exposes Prometheus metrics and readiness, and never logs the API token', async () => {
    // Node 1's metrics are read below: sign until the (random) quorum has included it.
    const key = keys['eddsa-ed25519']!;
    for (let i = 0, signers: number[] = []; !signers.includes(1); i++) {
      expect(i, 'node 1 never chosen as a signer').toBeLessThan(50);
      signers = (await api.sign(key.id, { message: Buffer.from(`metrics ${i}`).toString('hex') })).signers;
    }
    const metrics = await (await fetch(`${BASE}/metrics`)).text();
    expect(metrics).toMatch(/mpc_sign_duration_seconds_count\{scheme="eddsa-ed25519",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/mpc_nodes_online 3/);
    // 2-of-3 keys with all three holders online: one node may fail.
    expect(metrics).toMatch(/mpc_quorum_margin 1/);
    expect(metrics).toMatch(/mpc_node_online\{node="2"\} 1/);
    expect(metrics).toMatch(/process_cpu_user_seconds_total [0-9]/);
    // The local cluster keeps presignature pools: these requests were answered in one flight.
    expect(metrics).toMatch(/mpc_presign_hits_total\{scheme="eddsa-ed25519"\} [1-9]/);
    expect(metrics).toMatch(/mpc_presign_pool_size\{scheme="eddsa-ed25519"\} [0-9]/);
    const nodeOps = PORT + 201;
    expect((await fetch(`http://127.0.0.1:${nodeOps}/readyz`)).status).toBe(200);
    const nodeMetrics = await (await fetch(`http://127.0.0.1:${nodeOps}/metrics`)).text();
    expect(nodeMetrics).toMatch(/mpc_node_connected_peers [1-9]/);
    // This cluster's nodes run their signing sessions on one protocol worker each.
    expect(nodeMetrics).toMatch(/mpc_node_protocol_workers 1/);
    expect(nodeMetrics).toMatch(/mpc_node_protocol_worker_sessions_total [1-9]/);
    expect(nodeMetrics).toMatch(/mpc_node_sessions_total\{outcome="completed"\} [1-9]/);
    expect(nodeMetrics).toMatch(/mpc_node_unseal_cache_misses_total [1-9]/);
    expect(nodeMetrics).toMatch(/mpc_node_provider_unwrap_duration_seconds_count [1-9]/);
    expect(nodeMetrics).toMatch(/mpc_node_audit_write_failures_total 0/);
    expect(nodeMetrics).toMatch(/process_resident_memory_bytes [0-9]/);
    expect(nodeMetrics).toMatch(/mpc_node_presignatures [0-9]/);
    const { readdir } = await import('node:fs/promises');
    const logs = join(dataDir, 'logs');
    for (const f of await readdir(logs)) expect(await readFile(join(logs, f), 'utf8')).not.toContain(TOKEN);
  });

  it('2-of-3: signs with a node killed, answers 503 quorum_unavailable (not after the deadline) with two killed, and signs again after restarts with the same keys', async () => {
    const key = keys['eddsa-ed25519']!;
    const procs = (await cluster()).processes;
    kill(procs.find((p) => p.id === 'node-3')!.pid);
    for (let i = 0; i < 3; i++) {
      const res = await api.sign(key.id, { message: Buffer.from(`after kill ${i}`).toString('hex') });
      expect(res.signers).toEqual([1, 2]);
    }
    kill(procs.find((p) => p.id === 'node-2')!.pid);
    await until('one node online', async () => (await api.health()).nodes.filter((n) => n.online).length === 1, { within: 10_000, every: 100, errors: 'retry' });
    // Refused at once: a coordinator that tried anyway would wait out the 60 s deadline and answer 504.
    const refused = (await api.sign(key.id, { message: '00' }, { timeoutMs: 60_000 }).catch((e: unknown) => e)) as MpcApiError;
    expect([refused.status, refused.code]).toEqual([503, 'quorum_unavailable']);

    await restartNode('node-2');
    await restartNode('node-3');
    await until('a healthy cluster', healthy, { within: 30_000, every: 100, errors: 'retry' });
    for (const scheme of SCHEMES) {
      const digest = createHash('sha256').update('after restart').digest();
      const res = await api.sign(keys[scheme]!.id, { message: digest.toString('hex') });
      expect(res.publicKey).toBe(keys[scheme]!.publicKey);
    }
  }, 90_000);

  it('a coordinator killed and restarted under continuous signing sees its nodes at once (its pings are not taken for replays of the old run\'s)', async () => {
    // Every ping of the old coordinator sits in the nodes' replay guards; the old run must have sent enough of them to matter.
    const pingsSent = async () => Number(/^mpc_heartbeat_pings_total (\d+)/m.exec(await (await fetch(`${BASE}/metrics`)).text())?.[1] ?? NaN);
    await until('60 pings sent', async () => (await pingsSent()) >= 60, { within: 60_000, every: 100, errors: 'retry' }); // 20 per node
    const key = await api.createKey({ scheme: 'schnorr-bip340' });
    // Each answer is tagged with the run it was sent to: an answer the old process wrote just before
    // SIGKILL can arrive after the kill, and must not pass for the new run's.
    const statuses: { run: 'old' | 'new'; status: string }[] = [];
    let run: 'old' | 'new' = 'old';
    let signing = true;
    const loop = (async () => {
      for (let i = 0; signing; i++) {
        const sentTo = run;
        const status = await outcome(api.sign(key.id, { message: createHash('sha256').update(`restart ${i}`).digest('hex') }));
        statuses.push({ run: sentTo, status });
        if (status !== 'ok') await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await until('a healthy status', async () => statuses.some((s) => s.status === 'ok'), { within: 10_000, every: 100, errors: 'retry' });
      const coordinator = (await cluster()).processes.find((p) => p.role === 'coordinator')!;
      const oldPings = await pingsSent();
      kill(coordinator.pid);
      // SIGKILL is asynchronous: until the old process is gone it still holds the port and its stores.
      await until('the coordinator to exit', async () => !alive(coordinator.pid), { within: 10_000, every: 100, errors: 'retry' });
      run = 'new';
      restarted.push(launch('logs/coordinator-restarted', [join(ROOT, 'bin/mpc.ts'), 'start-coordinator', '--config', coordinator.config], { ...process.env, MPC_API_TOKEN: TOKEN }));
      // Before the fix the nodes dropped the new run's pings as replays, and stayed "offline" (503),
      // until it had sent as many as the old run: signing must be back long before that.
      await until('the new coordinator healthy', async () => statuses.some((s) => s.run === 'new' && s.status === 'ok'), { within: 60_000, every: 100, errors: 'retry' });
      expect(await pingsSent()).toBeLessThan(oldPings / 2);
    } finally {
      // A failure here must not leave requests running into the next test.
      signing = false;
      await loop;
    }
    expect((await api.health()).nodes.every((n) => n.online)).toBe(true);
  }, 120_000);

  it('the CLI drives a key through its lifecycle on real processes and disk: create, sign under a path, disable, enable, refresh, repair of a wiped node, reshare, destroy; audit chains verify', async () => {
    const { execFileSync } = await import('node:child_process');
    const { rm: remove } = await import('node:fs/promises');
    const env = { ...process.env, MPC_URL: BASE, MPC_API_TOKEN: TOKEN };
    /** Runs `mpc`; returns its exit code and its JSON answer. */
    const mpc = (...args: string[]): { code: number; out: any } => {
      try {
        return { code: 0, out: JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bin/mpc.ts'), '--json', ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] })) };
      } catch (e) {
        const err = e as { status: number; stdout: string };
        return { code: err.status, out: err.stdout ? JSON.parse(err.stdout) : undefined };
      }
    };
    expect(mpc('health').out.status).toBe('ok');
    const created = mpc('keys', 'create', '--scheme', 'schnorr-bip340');
    expect(created.code).toBe(0);
    const id = created.out.id as string;
    expect(mpc('keys', 'list').out.keys.map((k: { id: string }) => k.id)).toContain(id);
    expect(mpc('keys', 'get', id).out).toMatchObject({ id, threshold: 2, nodes: [1, 2, 3], epoch: 0 });
    const digest = (text: string) => createHash('sha256').update(text).digest();
    const signs = (text: string, path?: string) => {
      const res = mpc('sign', id, digest(text).toString('hex'), ...(path ? ['--path', path] : []));
      expect(res.code, JSON.stringify(res.out)).toBe(0);
      expect(schnorr.verify(Buffer.from(res.out.signature, 'hex'), digest(text), Buffer.from(res.out.publicKey, 'hex'))).toBe(true);
      return res.out as { publicKey: string; signers: number[] };
    };
    expect(signs('child', 'm/0/1').publicKey).not.toBe(created.out.publicKey);
    expect(mpc('key', 'disable', id).out.status).toBe('disabled');
    expect(mpc('sign', id, digest('refused').toString('hex'))).toMatchObject({ code: 1, out: { error: { code: 'key_disabled' } } });
    expect(mpc('key', 'enable', id).out.status).toBe('active');
    expect(mpc('key', 'refresh', id).out).toMatchObject({ id, epoch: 1, publicKey: created.out.publicKey });
    signs('after refresh');

    // Node 3 loses its disk: every key's share there is gone; repair rebuilds each from the others.
    const node3 = (await cluster()).processes.find((p) => p.id === 'node-3')!;
    const running = restarted.find((c) => c.spawnargs.includes(node3.config) && c.exitCode === null && c.signalCode === null);
    const gone = running ? new Promise((r) => running.once('exit', r)) : Promise.resolve();
    running?.kill('SIGTERM');
    await gone;
    await remove(join(dataDir, 'node-3', 'store'), { recursive: true, force: true });
    await restartNode('node-3');
    // The new process is up once its ops endpoint answers (the old one is gone); then the coordinator sees it.
    await until('the node\'s /healthz', async () => (await fetch(`http://127.0.0.1:${PORT + 203}/healthz`)).status === 200, { within: 30_000, every: 100, errors: 'retry' });
    await until('a healthy cluster', healthy, { within: 30_000, every: 100, errors: 'retry' });
    for (const key of mpc('keys', 'list').out.keys as { id: string; scheme: string }[]) {
      const repaired = mpc('key', 'repair', key.id, '--node', '3');
      expect(repaired.code, `${key.scheme}: ${JSON.stringify(repaired.out)}`).toBe(0);
    }
    // Quorums are random: sign until node 3 took part, with the share it got back.
    for (let i = 0, signers: number[] = []; !signers.includes(3); i++) {
      expect(i, 'node 3 never chosen as a signer').toBeLessThan(50);
      signers = signs(`after repair ${i}`).signers;
    }

    // Long work shows its progress on stderr, from the event stream; stdout keeps the JSON answer.
    const { spawnSync } = await import('node:child_process');
    const reshared = spawnSync(process.execPath, [join(ROOT, 'bin/mpc.ts'), '--json', 'key', 'reshare', id, '--nodes', '1,2,3', '--threshold', '3'], { encoding: 'utf8', env });
    expect(reshared.status, reshared.stderr).toBe(0);
    expect(JSON.parse(reshared.stdout)).toMatchObject({ threshold: 3, nodes: [1, 2, 3], publicKey: created.out.publicKey });
    expect(reshared.stderr).toMatch(/^mpc: reshare started on nodes 1, 2, 3$/m);
    expect(reshared.stderr).toMatch(/^mpc: node \d done \(3 of 3\)$/m);
    expect(reshared.stderr).toMatch(/^mpc: completed$/m);
    expect(signs('3-of-3').signers).toEqual([1, 2, 3]);
    expect(mpc('key', 'destroy', id).out).toEqual({ id, destroyed: true });
    expect(mpc('keys', 'get', id)).toMatchObject({ code: 1, out: { error: { code: 'key_not_found' } } });
    for (const node of (await cluster()).processes.filter((p) => p.role === 'node')) {
      expect(mpc('audit', 'verify', '--config', node.config).out, node.id).toMatchObject({ ok: true });
    }
  }, 120_000);

  it('backs a node up under 3-of-5 custodian shares, restores it onto a wiped data directory, and it signs', async () => {
    const { execFileSync } = await import('node:child_process');
    const { rm: remove } = await import('node:fs/promises');
    const node3 = (await cluster()).processes.find((p) => p.id === 'node-3')!;
    // Every key of this cluster is on all three nodes (earlier tests created them).
    const held = (await api.listKeys()).keys.length;
    const running = restarted.find((c) => c.spawnargs.includes(node3.config) && c.exitCode === null && c.signalCode === null);
    running?.kill('SIGTERM');
    await new Promise((r) => (running && running.exitCode === null ? running.once('exit', r) : r(undefined)));
    const mpc = (...args: string[]) => execFileSync(process.execPath, [join(ROOT, 'bin/mpc.ts'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const file = join(dataDir, 'node-3.backup');
    const before = Math.floor(Date.now() / 1000);
    const shares = mpc('backup', 'create', '--config', node3.config, '--out', file).split('\n').filter((l) => l.startsWith('mpcb1-'));
    expect(shares).toHaveLength(5);
    const nodeDir = join(dataDir, 'node-3');
    for (const f of ['identity.json', 'store', 'audit.log']) await remove(join(nodeDir, f), { recursive: true, force: true });
    expect(() => mpc('backup', 'restore', '--config', node3.config, '--in', file, '--share', shares[0]!, '--share', shares[2]!)).toThrow(/need 3 distinct custodian shares, got 2/);
    expect(JSON.parse(mpc('backup', 'restore', '--config', node3.config, '--in', file, '--share', shares[0]!, '--share', shares[2]!, '--share', shares[4]!))).toEqual({ keys: held });
    await restartNode('node-3');
    await until('a healthy cluster', healthy, { within: 30_000, every: 100, errors: 'retry' });
    // The running node exports when it was last backed up (the backup-age alert's input).
    const nodeMetrics = await (await fetch(`http://127.0.0.1:${PORT + 203}/metrics`)).text();
    const backedUpAt = Number(/^mpc_node_last_backup_timestamp_seconds (\d+)/m.exec(nodeMetrics)?.[1]);
    expect(backedUpAt).toBeGreaterThanOrEqual(before);
    expect(nodeMetrics).toMatch(/^mpc_node_last_backup_duration_seconds [0-9.e-]+$/m);
    kill((await cluster()).processes.find((p) => p.id === 'node-1')!.pid); // the quorum must use node 3
    const message = Buffer.from('restored');
    await until('a signature', async () => (await outcome(api.sign(keys['eddsa-ed25519']!.id, { message: message.toString('hex') }))) === 'ok', { within: 20_000, every: 100, errors: 'retry' });
    const res = await api.sign(keys['eddsa-ed25519']!.id, { message: message.toString('hex') });
    expect(res.signers).toEqual([2, 3]);
    expect(opensslEd25519Verifies(Buffer.from(res.signature, 'hex'), message, Buffer.from(res.publicKey, 'hex'))).toBe(true);
  }, 90_000);
});
