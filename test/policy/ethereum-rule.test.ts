/**
 * The README's worked example on an in-memory cluster: an Ethereum key labelled `treasury`
 * under a rule with 2-of-3 approvers, an allow list, a per-transaction and a daily cap, on
 * chain 1 only. Transactions are built by viem and the signature put back into them by viem;
 * each node decodes them itself (micro-eth-signer). Every refusal is checked for: no
 * signature, the rule named, and the refusal in the signers' audit logs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEther, recoverTransactionAddress, serializeTransaction, type TransactionSerializableEIP1559 } from 'viem';
import { receiptSigningInput } from '../../contract/receipt.ts';
import type { Policy } from '../../cluster/policy/document.ts';
import { ethereumAddress } from '../../protocol/schemes/addresses.ts';
import type { KeyInfo, RequestContext, SessionEvent, SignRequest } from '../../coordinator/service.ts';
import { signApproval } from '../../cluster/policy/approvals.ts';
import { MemoryCluster } from '../../simulations/memory-cluster.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import { approved, hexKey, signedPolicy, testAdministrators, testSigner } from '../support/policy.ts';

const ctx = (ms = 20_000): RequestContext => ({ deadline: Date.now() + ms, requestId: 'test', emit: () => undefined });
const alice = testSigner('alice');
const bob = testSigner('bob');
const carol = testSigner('carol');
const BOB_WALLET = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const CAROL_WALLET = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

function treasuryPolicy(version: number): Policy {
  return {
    version,
    approvers: { alice: hexKey(alice), bob: hexKey(bob), carol: hexKey(carol) },
    rules: [
      {
        name: 'eth-treasury',
        keys: { labels: ['treasury'] },
        schemes: ['ecdsa-secp256k1'],
        approvals: { required: 2, from: ['alice', 'bob', 'carol'] },
        ethereum: { chainIds: [1], allow: [BOB_WALLET], maxValue: parseEther('2').toString(), maxValuePerDay: parseEther('3').toString() },
      },
    ],
    default: 'deny',
  };
}

let cluster: MemoryCluster;
let key: KeyInfo;
let nonce = 0;
afterEach(() => cluster?.close());

/** An unsigned EIP-1559 transfer, as a wallet would prepare it. */
function transfer(to: string, eth: string, chainId = 1): { tx: TransactionSerializableEIP1559; request: SignRequest } {
  const tx: TransactionSerializableEIP1559 = { type: 'eip1559', chainId, nonce: nonce++, to: to as `0x${string}`, value: parseEther(eth), maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, gas: 21_000n };
  return { tx, request: { message: Buffer.from(serializeTransaction(tx).slice(2), 'hex'), transaction: 'ethereum' } };
}

const refusal = (p: Promise<unknown>) => p.then(() => ({ code: 'signed' }), (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));

beforeEach(async () => {
  const { admins, administrators } = testAdministrators(3, 2);
  cluster = await MemoryCluster.create({ nodes: 3, administrators });
  cluster.recordAudits = true;
  await cluster.settle();
  // 3-of-3: every node signs every time, so each node's daily count is the cluster's (a node
  // counts what it signed: see SECURITY.md for the bound with smaller quorums).
  key = await cluster.engine.createKey({ scheme: 'ecdsa-secp256k1', label: 'treasury', threshold: 3 }, ctx());
  const v1 = signedPolicy(treasuryPolicy(1), admins.slice(0, 2));
  await cluster.engine.proposePolicy(v1.document, v1.signatures);
});

describe('worked example: an Ethereum treasury key under 2-of-3 approvals and a daily cap', () => {
  it('signs an approved transfer; viem recovers the key\'s address, and each signer\'s receipt names the rule and policy version', async () => {
    const { tx, request } = transfer(BOB_WALLET, '1');
    const sig = await cluster.engine.sign(key.id, approved(key.id, request, [alice, carol]), ctx());
    const signedTx = serializeTransaction(tx, { r: `0x${sig.r!}`, s: `0x${sig.s!}`, yParity: sig.recoveryId! });
    expect(await recoverTransactionAddress({ serializedTransaction: signedTx })).toBe(ethereumAddress(Buffer.from(key.publicKey, 'hex')));
    expect(sig.receipts).toHaveLength(3);
    for (const r of sig.receipts!) {
      expect(cluster.auths.get(r.node)!.verify(r.node as PartyId, receiptSigningInput(Buffer.from(r.receipt)), Buffer.from(r.signature, 'hex'))).toBe(true);
      expect(JSON.parse(r.receipt)).toMatchObject({ node: r.node, keyId: key.id, decision: 'allowed', rule: 'eth-treasury', policyVersion: 1, signed: sig.digest });
    }
  });

  it('refuses, with no signature and the rule named: missing, too few, foreign, moved, replayed and expired approvals', async () => {
    const outsider = testSigner('alice'); // an approver's name with another key
    const moved = approved(key.id, transfer(BOB_WALLET, '0.5').request, [alice, bob]);
    const cases: [string, SignRequest, RegExp][] = [
      ['no approvals', transfer(BOB_WALLET, '1').request, /no request id|2 approvals required, 0 valid/],
      ['one approval', approved(key.id, transfer(BOB_WALLET, '1').request, [alice]), /2 approvals required, 1 valid/],
      ['a foreign key under an approver\'s name', approved(key.id, transfer(BOB_WALLET, '1').request, [outsider, bob]), /2 approvals required, 1 valid/],
      // Approvals of one transfer attached to another (same request id and deadline).
      ['approvals moved to another transaction', { ...transfer(BOB_WALLET, '1.9').request, requestId: moved.requestId!, deadline: moved.deadline!, approvals: moved.approvals! }, /2 approvals required, 0 valid/],
      ['expired approvals', approved(key.id, transfer(BOB_WALLET, '1').request, [alice, bob], { deadline: Math.floor(Date.now() / 1000) - 1 }), /expired/],
    ];
    for (const [what, request, reason] of cases) {
      expect(await refusal(cluster.engine.sign(key.id, request, ctx())), what).toMatchObject({ code: 'policy_denied', message: expect.stringMatching(reason) });
    }
    // Replayed: the same approved request after it was signed.
    const once = approved(key.id, transfer(BOB_WALLET, '0.1').request, [alice, bob]);
    await cluster.engine.sign(key.id, once, ctx());
    expect(await refusal(cluster.engine.sign(key.id, once, ctx()))).toMatchObject({ code: 'policy_denied', message: expect.stringMatching(/signed already/) });
    const refused = cluster.audits.filter((a) => a.entry.event === 'policy' && a.entry.outcome === 'refused');
    expect(refused.length).toBeGreaterThanOrEqual(cases.length + 1);
    for (const a of refused) expect(a.entry).toMatchObject({ rule: 'eth-treasury', policyVersion: 1 });
  });

  it('refuses a destination off the allow list, another chain, a bare digest, and value over the per-transaction and daily caps', async () => {
    const sign = (request: SignRequest) => refusal(cluster.engine.sign(key.id, approved(key.id, request, [bob, carol]), ctx()));
    expect(await sign(transfer(CAROL_WALLET, '1').request)).toMatchObject({ code: 'policy_denied', message: expect.stringMatching(/not on the allow list/) });
    expect(await sign(transfer(BOB_WALLET, '1', 5).request)).toMatchObject({ code: 'policy_denied', message: expect.stringMatching(/chain id 5 is not allowed/) });
    expect(await sign({ message: new Uint8Array(32).fill(7) })).toMatchObject({ code: 'policy_denied', message: expect.stringMatching(/only ethereum transactions/) });
    expect(await sign(transfer(BOB_WALLET, '2.5').request)).toMatchObject({ code: 'policy_denied', message: expect.stringMatching(/over the per-transaction cap/) });
    expect(await sign(transfer(BOB_WALLET, '2').request)).toMatchObject({ code: 'signed' });
    expect(await sign(transfer(BOB_WALLET, '0.9').request)).toMatchObject({ code: 'signed' });
    // 2.9 ETH signed today: 0.2 more would pass 3.
    expect(await sign(transfer(BOB_WALLET, '0.2').request)).toMatchObject({ code: 'policy_denied', message: expect.stringMatching(/over the daily cap/) });
  });

  it('a request waits for its approvers: each approval is an event on the stream, and the second one makes it sign', async () => {
    const events: SessionEvent[] = [];
    const { tx, request } = transfer(BOB_WALLET, '1');
    const waiting = await cluster.engine.submitForApproval(key.id, request, { ...ctx(), emit: (e) => events.push(e) });
    expect(waiting).toMatchObject({ status: 'awaiting_approvals', required: 2, approvedBy: [], message: Buffer.from(request.message).toString('hex') });
    const sign = (who: typeof alice) => cluster.engine.approveRequest(waiting.requestId, who.name, signApproval(who.seed, waiting.approval));
    expect(() => sign(testSigner('bob'))).toThrow(/not a valid approval/);
    expect(sign(carol)).toMatchObject({ status: 'awaiting_approvals', approvedBy: ['carol'] });
    expect(sign(alice).status).toBe('signing');
    for (let i = 0; cluster.engine.pendingRequest(waiting.requestId).status === 'signing' && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
    const done = cluster.engine.pendingRequest(waiting.requestId);
    expect(done.status).toBe('signed');
    const signedTx = serializeTransaction(tx, { r: `0x${done.result!.r!}`, s: `0x${done.result!.s!}`, yParity: done.result!.recoveryId! });
    expect(await recoverTransactionAddress({ serializedTransaction: signedTx })).toBe(ethereumAddress(Buffer.from(key.publicKey, 'hex')));
    expect(events.filter((e) => e.type === 'approval')).toEqual([
      { type: 'approval', request: waiting.requestId, approver: 'carol', have: 1, need: 2 },
      { type: 'approval', request: waiting.requestId, approver: 'alice', have: 2, need: 2 },
    ]);
  });

  it('a request a node refuses after admitting it (a burned OT pair) keeps its approvals for the retry, and is spent once signed', async () => {
    // (A small value: every attempt a node admits counts against the daily cap, retries included.)
    const { request } = transfer(BOB_WALLET, '0.01');
    const good = approved(key.id, request, [alice, bob]);
    // Node 1's OT setup with node 2 is burned (as after a failed consistency check): node 1 admits
    // the request under its rule, then refuses to run it with node 2.
    await cluster.vaults.get(1)!.burnPair(key.id, 2 as PartyId, 0);
    expect(await refusal(cluster.engine.sign(key.id, good, ctx(3000)))).not.toMatchObject({ code: 'signed' });
    // A refresh brings fresh pairs; the same approved request then signs, once.
    await cluster.engine.refreshKey(key.id, ctx());
    expect((await cluster.engine.sign(key.id, good, ctx())).signers).toEqual([1, 2, 3]);
    expect(await refusal(cluster.engine.sign(key.id, good, ctx()))).toMatchObject({ code: 'policy_denied', message: expect.stringMatching(/signed already/) });
  });

  it('refuses a transaction whose digest is not the one the client expects, before any node signs', async () => {
    const { request } = transfer(BOB_WALLET, '1');
    const wrong = approved(key.id, { ...request, expectedDigest: new Uint8Array(32).fill(1) }, [alice, bob]);
    expect(await refusal(cluster.engine.sign(key.id, wrong, ctx()))).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/is not the transaction's/) });
    expect(cluster.audits.filter((a) => a.entry.event === 'policy' && a.entry.keyId === key.id)).toHaveLength(0);
  });
});
