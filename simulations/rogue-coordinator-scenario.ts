/**
 * `rogue-coordinator`: the attacker holds the coordinator's identity and tries to make the
 * nodes sign what the policy forbids, through the engine and with requests it forges and signs
 * itself. The policy is the README's worked example (an Ethereum treasury key: 2-of-3 approvers,
 * an allow list, per-transaction and daily caps, chain 1); transactions are built by viem.
 *
 * Every attack must end without a signature, refused by every signer and written in its audit
 * log; honest requests with the right approvals must still sign.
 */
import { randomBytes } from 'node:crypto';
import { keccak256, parseEther, recoverTransactionAddress, serializeTransaction, type TransactionSerializableEIP1559 } from 'viem';
import { SIGN_REQUEST_DEFAULTS, signRequestCodec, type NodeReport, type SignRequest as WireSignRequest } from '../cluster/control.ts';
import { approvalRequest, signApproval } from '../cluster/policy/approvals.ts';
import { adminSigningInput, signPolicyHash } from '../cluster/policy/administrators.ts';
import { parsePolicy, policyBytes, policyHash, type Policy } from '../cluster/policy/document.ts';
import { ethereumAddress } from '../protocol/schemes/addresses.ts';
import { encodeCbor, type Bytes } from '../protocol/core/codec.ts';
import { ed25519PrivateKey, newEd25519Seed, rawEd25519PublicKey } from '../protocol/curves/curve25519-keys.ts';
import type { PartyId } from '../protocol/core/ids.ts';
import { ServiceError, type KeyInfo, type RequestContext, type SignRequest } from '../coordinator/service.ts';
import type { Scenario } from './harness.ts';
import { newAdministrators, type AdminKey } from './administrators.ts';
import type { CoordinatorControl } from './rogue-coordinator.ts';

const BOB_WALLET = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const MALLORY_WALLET = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const approverKeys = ['alice', 'bob', 'carol'].map((name) => ({ name, seed: newEd25519Seed() }));
const MEMORY_ADMINS = newAdministrators(3);

const hexKey = (seed: Uint8Array) => Buffer.from(rawEd25519PublicKey(ed25519PrivateKey(seed))).toString('hex');

function treasury(version: number): Policy {
  return {
    version,
    approvers: Object.fromEntries(approverKeys.map((a) => [a.name, hexKey(a.seed)])),
    rules: [
      {
        name: 'eth-treasury',
        keys: { labels: ['treasury'] },
        approvals: { required: 2, from: ['alice', 'bob', 'carol'] },
        ethereum: { chainIds: [1], allow: [BOB_WALLET], maxValue: parseEther('2').toString(), maxValuePerDay: parseEther('3').toString() },
      },
    ],
    default: 'deny',
  };
}

function signedBy(policy: Policy, admins: readonly { name: string; seed: Uint8Array }[]) {
  const document = policyBytes(parsePolicy(policy));
  return { document, hash: policyHash(document), signatures: admins.map((a) => ({ admin: a.name, signature: signPolicyHash(a.seed, policyHash(document)) })) };
}

let nonce = 0;
function transfer(to: string, eth: string, chainId = 1): { tx: TransactionSerializableEIP1559; bytes: Uint8Array } {
  const tx: TransactionSerializableEIP1559 = { type: 'eip1559', chainId, nonce: nonce++, to: to as `0x${string}`, value: parseEther(eth), maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, gas: 21_000n };
  return { tx, bytes: Buffer.from(serializeTransaction(tx).slice(2), 'hex') };
}

/** `request` approved by `approvers` (a fresh request id, a deadline in ten minutes unless given). */
function approve(keyId: string, request: SignRequest, approvers: readonly string[], deadline = Math.floor(Date.now() / 1000) + 600): SignRequest {
  const requestId = `req-${randomBytes(6).toString('hex')}`;
  const canonical = approvalRequest(keyId, { ...request, requestId, deadline });
  const approvals = approvers.map((name) => ({ approver: name, signature: signApproval(approverKeys.find((a) => a.name === name)!.seed, canonical) }));
  return { ...request, requestId, deadline, approvals };
}

const isRefusal = (r: { report: NodeReport }) => r.report.type === 'failed' && /^(policy_denied|policy_mismatch|invalid_request)$/.test(r.report.code);

const rc = (): RequestContext => ({ deadline: Date.now() + 30_000, requestId: 'rogue', emit: () => undefined });

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

export const ROGUE_COORDINATOR: Scenario = {
  name: 'rogue-coordinator',
  description: 'the attacker holds the coordinator\'s identity: over-cap, off-list, unapproved, replayed, expired, digest-swapped, old-policy and self-signed-policy requests all end without a signature, refused and audited by every signer; approved requests sign',
  seed: 11,
  backends: ['memory', 'processes'],
  cluster: () => ({ nodes: 3, administratorKeys: { threshold: 2, keys: MEMORY_ADMINS } }),
  async run(ctx, figures) {
    const admins: readonly AdminKey[] = await ctx.administrators();
    const c: CoordinatorControl = await ctx.takeCoordinator();
    if (!(await until(() => c.engine.health().nodes.every((n) => n.online), 20_000))) throw new Error('the nodes never answered the coordinator');
    // 3-of-3: every node takes part in every signature, so each node's daily count is the cluster's.
    const key: KeyInfo = await c.engine.createKey({ scheme: 'ecdsa-secp256k1', threshold: 3, label: 'treasury' }, rc());
    const v1 = signedBy(treasury(1), admins.slice(0, 2));
    await c.engine.proposePolicy(v1.document, v1.signatures);
    const address = ethereumAddress(Buffer.from(key.publicKey, 'hex'));

    let honestSigned = 0;
    const attacks: string[] = [];
    const attackSignatures: string[] = [];
    const wrongOutcome: string[] = [];
    const honest = async (what: string, t: ReturnType<typeof transfer>, request: SignRequest) => {
      const sig = await c.engine.sign(key.id, request, rc());
      const signed = serializeTransaction(t.tx, { r: `0x${sig.r!}`, s: `0x${sig.s!}`, yParity: sig.recoveryId! });
      if ((await recoverTransactionAddress({ serializedTransaction: signed })) !== address) throw new Error(`${what}: the signature does not recover to the key's address`);
      honestSigned++;
    };
    /** An attack through the engine: it must be refused with `code`. */
    const viaEngine = async (what: string, request: SignRequest, code: string) => {
      attacks.push(what);
      try {
        await c.engine.sign(key.id, request, rc());
        attackSignatures.push(what);
      } catch (e) {
        if (!(e instanceof ServiceError) || e.code !== code) wrongOutcome.push(`${what}: ${e instanceof ServiceError ? e.code : String(e)}`);
      }
    };
    /** An attack the coordinator forges and signs itself, sent to every holder: each must refuse with `code`. */
    const forged = async (what: string, fields: Partial<WireSignRequest>, code: string) => {
      attacks.push(what);
      const session = randomBytes(32) as Bytes;
      const request = encodeCbor(signRequestCodec, {
        ...SIGN_REQUEST_DEFAULTS,
        session,
        keyId: key.id,
        scheme: 'ecdsa-secp256k1',
        epoch: key.epoch ?? 0,
        signers: [1, 2, 3] as PartyId[],
        message: new Uint8Array(32) as Bytes,
        policyHash: c.engine.policy().hash ? (Buffer.from(c.engine.policy().hash, 'hex') as Bytes) : SIGN_REQUEST_DEFAULTS.policyHash,
        ...fields,
      }) as Bytes;
      for (const n of [1, 2, 3]) c.send(n, { type: 'sign', request });
      const mine = (r: { report: NodeReport }) => 'session' in r.report && Buffer.from(r.report.session).equals(session) && r.report.type !== 'receipt';
      if (!(await until(() => c.reports.filter(mine).length >= 3, 10_000))) wrongOutcome.push(`${what}: not every node answered`);
      for (const r of c.reports.filter(mine)) {
        if (r.report.type === 'sign_done') attackSignatures.push(what);
        else if (r.report.type !== 'failed' || r.report.code !== code) wrongOutcome.push(`${what}: node ${r.from} ${r.report.type === 'failed' ? r.report.code : r.report.type}`);
      }
    };
    const request = (t: ReturnType<typeof transfer>): SignRequest => ({ message: t.bytes, transaction: 'ethereum' });

    // An honest, approved transfer signs.
    const first = transfer(BOB_WALLET, '1');
    const firstRequest = approve(key.id, request(first), ['alice', 'bob']);
    await honest('approved 1 ETH', first, firstRequest);

    await viaEngine('over the per-transaction cap', approve(key.id, request(transfer(BOB_WALLET, '2.5')), ['alice', 'bob']), 'policy_denied');
    await viaEngine('to a destination off the allow list', approve(key.id, request(transfer(MALLORY_WALLET, '0.5')), ['alice', 'bob']), 'policy_denied');
    await viaEngine('on another chain', approve(key.id, request(transfer(BOB_WALLET, '0.5', 5)), ['alice', 'bob']), 'policy_denied');
    await viaEngine('without approvals', request(transfer(BOB_WALLET, '0.5')), 'policy_denied');
    await viaEngine('with one approval', approve(key.id, request(transfer(BOB_WALLET, '0.5')), ['carol']), 'policy_denied');
    await viaEngine('with expired approvals', approve(key.id, request(transfer(BOB_WALLET, '0.5')), ['alice', 'carol'], Math.floor(Date.now() / 1000) - 5), 'policy_denied');
    await viaEngine('with replayed approvals (a request already signed)', firstRequest, 'policy_denied');
    const other = transfer(MALLORY_WALLET, '0.5');
    await viaEngine('with approvals of another transaction', { ...request(other), requestId: firstRequest.requestId!, deadline: firstRequest.deadline!, approvals: firstRequest.approvals! }, 'policy_denied');

    // The daily cap: 1 + 1.5 = 2.5 ETH signed today; 1 more would make 3.5 > 3.
    const second = transfer(BOB_WALLET, '1.5');
    await honest('approved 1.5 ETH', second, approve(key.id, request(second), ['bob', 'carol']));
    await viaEngine('over the daily cap', approve(key.id, request(transfer(BOB_WALLET, '1')), ['alice', 'bob']), 'policy_denied');

    // Forged past the engine: what approvers saw is not what would be signed.
    const shown = transfer(BOB_WALLET, '0.1');
    const shownApproved = approve(key.id, request(shown), ['alice', 'bob']);
    const swapped = transfer(MALLORY_WALLET, '0.1');
    const approvalsOf = (r: SignRequest) => ({ requestId: r.requestId!, deadline: r.deadline!, approvals: r.approvals!.map((a) => ({ approver: a.approver, signature: a.signature as Bytes })) });
    await forged('a digest that does not match the transaction shown', { message: shown.bytes as Bytes, transaction: 'ethereum', expectedDigest: Buffer.from(keccak256(serializeTransaction(swapped.tx)).slice(2), 'hex') as Bytes, ...approvalsOf(shownApproved) }, 'invalid_request');
    await forged('a bare digest of another transaction under approvals of the one shown', { message: Buffer.from(keccak256(serializeTransaction(swapped.tx)).slice(2), 'hex') as Bytes, ...approvalsOf(shownApproved) }, 'policy_denied');

    // Policies: an older version, and one the coordinator signed itself.
    const v2 = signedBy(treasury(2), admins.slice(1, 3));
    await c.engine.proposePolicy(v2.document, v2.signatures);
    await forged('naming the older policy version', { message: shown.bytes as Bytes, transaction: 'ethereum', policyHash: v1.hash as Bytes, ...approvalsOf(approve(key.id, request(shown), ['alice', 'bob'])) }, 'policy_mismatch');
    const open: Policy = { version: 3, rules: [], default: 'allow' };
    const selfSigned = policyBytes(parsePolicy(open));
    // Well-formed administrator signatures, made with the coordinator's key: under an
    // administrator's name, and under its own.
    const selfInput = adminSigningInput(policyHash(selfSigned));
    const bySelf = [
      { admin: admins[0]!.name, signature: c.signAsCoordinator(selfInput) as Bytes, mldsaSignature: new Uint8Array() as Bytes },
      { admin: 'coordinator', signature: c.signAsCoordinator(selfInput) as Bytes, mldsaSignature: new Uint8Array() as Bytes },
    ];
    attacks.push('a policy it signed itself, through the API');
    try {
      await c.engine.proposePolicy(selfSigned, bySelf);
      attackSignatures.push('self-signed policy accepted by the coordinator');
    } catch (e) {
      if (!(e instanceof ServiceError) || e.code !== 'policy_invalid') wrongOutcome.push('self-signed policy: not policy_invalid');
    }
    const statusBefore = c.reports.filter((r) => r.report.type === 'policy_status').length;
    for (const n of [1, 2, 3]) c.send(n, { type: 'policy', nonce: randomBytes(16) as Bytes, document: selfSigned as Bytes, signatures: bySelf });
    await until(() => c.reports.filter((r) => r.report.type === 'policy_status').length >= statusBefore + 3, 10_000);
    const answers = c.reports.filter((r) => r.report.type === 'policy_status').slice(statusBefore);
    attacks.push('a policy it signed itself, sent to the nodes');
    if (answers.length < 3 || answers.some((r) => r.report.type !== 'policy_status' || r.report.version !== 2 || !r.report.error)) wrongOutcome.push('self-signed policy: a node did not refuse it');
    await forged('naming the policy it signed itself', { message: request(transfer(MALLORY_WALLET, '5')).message as Bytes, transaction: 'ethereum', policyHash: policyHash(selfSigned) as Bytes }, 'policy_mismatch');

    // Honest requests still sign under the new version (2.5 + 0.4 ≤ 3 ETH).
    const last = transfer(BOB_WALLET, '0.4');
    await honest('approved 0.4 ETH', last, approve(key.id, request(last), ['alice', 'carol']));

    // Every refusal a node reported is in its audit log.
    // (A node reports a refusal after writing it, so only late reports of attempts the engine
    // settled early are still on their way: wait for those.)
    if (!(await until(() => c.reports.filter(isRefusal).length >= 3 * (attacks.length - 2), 10_000))) wrongOutcome.push('not every signer reported its refusals');
    const refusals = c.reports.filter(isRefusal);
    const audits = await c.policyAudits();
    const audited = refusals.filter((r) => audits.some((a) => a.node === r.from && a.entry.outcome === 'refused' && a.entry.session === Buffer.from((r.report as { session: Uint8Array }).session).toString('hex')));

    figures.attacks = attacks.length;
    figures.attackSignatures = attackSignatures.length;
    figures.wrongOutcomes = wrongOutcome.join('; ') || 'none';
    figures.honestSigned = honestSigned;
    figures.refusalsReported = refusals.length;
    figures.refusalsAudited = audited.length;
    if (attackSignatures.length) throw new Error(`signatures produced for: ${attackSignatures.join(', ')}`);
  },
};
