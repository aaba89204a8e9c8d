/**
 * The README's policy walkthrough, command for command, on a local cluster of real processes:
 * approver keys, a treasury key, a policy proposed, signed by two of the three administrators
 * and applied; a transfer refused without approvals, then kept until two approvers sign it and
 * signed (viem recovers the key's address, every receipt verifies under its node's manifest
 * key); and a transfer over the daily cap refused after its approvals.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseEther, recoverTransactionAddress, serializeTransaction, type TransactionSerializableEIP1559 } from 'viem';
import { receiptVerifies, type PendingRequest } from 'mpc-signer/client';
import { until } from '../support/until.ts';
import { freeClusterPort } from '../../simulations/ports.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PORT = await freeClusterPort();
const TOKEN = 'policy-cli-token-' + 'x'.repeat(24);
const BOB_WALLET = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

let dataDir: string;
let work: string;
let launcher: ChildProcess;
/** A failed test keeps the cluster's data and logs for the post-mortem. */
let failed = false;
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

/** Runs `mpc --json …` in `work`; its exit code, JSON answer and stderr. */
function mpc(...args: string[]): { code: number; out: any; err: string } {
  try {
    const out = execFileSync(process.execPath, [join(ROOT, 'bin/mpc.ts'), '--json', ...args], { cwd: work, encoding: 'utf8', env: { ...process.env, MPC_URL: `http://127.0.0.1:${PORT}`, MPC_API_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, out: out.trim().startsWith('{') || out.trim().startsWith('[') ? JSON.parse(out) : out.trim(), err: '' };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, out: x.stdout?.trim() ? JSON.parse(x.stdout) : undefined, err: x.stderr };
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mpc-policy-'));
  work = await mkdtemp(join(tmpdir(), 'mpc-policy-work-'));
  launcher = spawn(process.execPath, [join(ROOT, 'coordinator/cluster.ts'), '--nodes', '3', '--port', String(PORT), '--data-dir', dataDir], { env: { ...process.env, MPC_API_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(dataDir, 'launcher.log'));
  launcher.stdout!.pipe(log);
  launcher.stderr!.pipe(log);
  await until('a healthy cluster', () => mpc('health').out?.status === 'ok', { within: 60_000, every: 100, errors: 'retry' });
}, 90_000);

afterAll(async () => {
  const gone = launcher.exitCode === null ? new Promise((r) => launcher.once('exit', r)) : undefined;
  launcher.kill('SIGTERM');
  await gone;
  if (failed) console.error(`policy CLI test failed: cluster data kept in ${dataDir}`);
  else await rm(dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
}, 30_000);

let nonce = 0;
const transfer = (eth: string): TransactionSerializableEIP1559 => ({ type: 'eip1559', chainId: 1, nonce: nonce++, to: BOB_WALLET, value: parseEther(eth), maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, gas: 21_000n });

describe('policy walkthrough (README, "Policy") on real processes', () => {
  it('administrators apply a 2-of-3 approver rule with a daily cap; transfers sign only with approvals and within the cap', async () => {
    const approvers: Record<string, string> = {};
    for (const name of ['alice', 'bob', 'carol']) {
      const made = mpc('signer-key', 'create', '--role', 'approver', '--name', name, '--out', `${name}.key`);
      expect(made.code, made.err).toBe(0);
      approvers[name] = made.out as string;
    }
    const key = mpc('keys', 'create', '--scheme', 'ecdsa-secp256k1', '--label', 'treasury').out as { id: string; addresses: { ethereum: string } };
    const policy = {
      version: 1,
      approvers,
      rules: [{ name: 'eth-treasury', keys: { labels: ['treasury'] }, approvals: { required: 2, from: ['alice', 'bob', 'carol'] }, ethereum: { chainIds: [1], maxValuePerDay: parseEther('5').toString() } }],
      default: 'allow',
    };
    await writeFile(join(work, 'policy.json'), JSON.stringify(policy, null, 2));
    expect(mpc('policy', 'propose', '--file', 'policy.json', '--out', 'proposal.json').out).toMatchObject({ version: 1 });
    for (const admin of ['admin-1', 'admin-2']) {
      const signed = mpc('policy', 'sign', '--proposal', 'proposal.json', '--name', admin, '--key', join(dataDir, 'admins', `${admin}.json`));
      expect(signed.code, signed.err).toBe(0);
    }
    const applied = mpc('policy', 'apply', '--proposal', 'proposal.json');
    expect(applied.code, applied.err).toBe(0);
    expect(applied.out).toMatchObject({ version: 1, nodes: [{ version: 1 }, { version: 1 }, { version: 1 }] });
    expect(mpc('policy', 'show').out.policy.rules[0].name).toBe('eth-treasury');

    // Without approvals: refused by the nodes, naming the rule.
    const tx = transfer('1');
    const unsigned = serializeTransaction(tx).slice(2);
    const refused = mpc('sign', key.id, unsigned, '--transaction', 'ethereum');
    expect(refused).toMatchObject({ code: 1, out: { error: { code: 'policy_denied', message: expect.stringMatching(/eth-treasury: approvals are required/) } } });

    // Kept until two approvers sign it; each approver sees what the transaction does.
    const waiting = mpc('sign', key.id, unsigned, '--transaction', 'ethereum', '--await-approvals').out as PendingRequest;
    expect(waiting).toMatchObject({ status: 'awaiting_approvals', required: 2, approvedBy: [] });
    const alice = mpc('approve', waiting.requestId, '--name', 'alice', '--key', 'alice.key');
    expect(alice.out).toMatchObject({ status: 'awaiting_approvals', approvedBy: ['alice'] });
    const bob = mpc('approve', waiting.requestId, '--name', 'bob', '--key', 'bob.key');
    expect(bob.code, bob.err).toBe(0);
    let done: PendingRequest = bob.out;
    await until('the request signed', () => (done = mpc('request', waiting.requestId).out).status === 'signed', { within: 30_000, every: 100, errors: 'retry' });
    const sig = done.result!;
    const signed = serializeTransaction(tx, { r: `0x${sig.r!}`, s: `0x${sig.s!}`, yParity: sig.recoveryId! });
    expect(await recoverTransactionAddress({ serializedTransaction: signed })).toBe(key.addresses.ethereum);
    const manifest = JSON.parse(await readFile(join(dataDir, 'manifest.json'), 'utf8')) as { members: { id: string; identityKey: string }[] };
    expect(sig.receipts).toHaveLength(2);
    for (const r of sig.receipts!) {
      const nodeKey = Buffer.from(manifest.members.find((m) => m.id === `node-${r.node}`)!.identityKey, 'hex');
      expect(receiptVerifies(r, nodeKey)).toBe(true);
      expect(JSON.parse(r.receipt)).toMatchObject({ decision: 'allowed', rule: 'eth-treasury', policyVersion: 1, requestId: waiting.requestId });
    }

    // A stranger's approval is refused by the coordinator already; the nodes would refuse it too.
    const mallory = mpc('signer-key', 'create', '--role', 'approver', '--name', 'alice', '--out', 'mallory.key');
    expect(mallory.code).toBe(0);
    const next = mpc('sign', key.id, serializeTransaction(transfer('4.5')).slice(2), '--transaction', 'ethereum', '--await-approvals').out as PendingRequest;
    expect(mpc('approve', next.requestId, '--name', 'alice', '--key', 'mallory.key')).toMatchObject({ code: 1, out: { error: { code: 'policy_denied' } } });
    // 1 ETH signed today: 4.5 more would pass the 5 ETH cap, approvals or not.
    mpc('approve', next.requestId, '--name', 'bob', '--key', 'bob.key');
    mpc('approve', next.requestId, '--name', 'carol', '--key', 'carol.key');
    let over: PendingRequest = next;
    await until('the request failed', () => (over = mpc('request', next.requestId).out).status === 'failed', { within: 30_000, every: 100, errors: 'retry' });
    expect(over.error).toMatchObject({ code: 'policy_denied', message: expect.stringMatching(/over the daily cap/) });

    // Operators see the version each node enforces and its decisions on its metrics endpoint.
    let refusedOnNodes = 0;
    for (const n of [1, 2, 3]) {
      const metrics = await (await fetch(`http://127.0.0.1:${PORT + 200 + n}/metrics`)).text();
      expect(metrics).toMatch(/^mpc_node_policy_version 1$/m);
      refusedOnNodes += Number(/^mpc_node_policy_decisions_total\{decision="refused",rule="eth-treasury"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    }
    expect(refusedOnNodes).toBeGreaterThanOrEqual(2); // the unapproved transfer, and the one over the cap, by at least one signer each
  }, 180_000);
});
