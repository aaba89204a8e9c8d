/**
 * Signing: pick t online signers, send them the signed request, and verify the signature they
 * return with code that did not produce it before returning it. The first attempt signs with a
 * presignature from the key's pool when there is one (presign-pool.ts). A failed attempt (abort,
 * silence, an unreachable node, an invalid signature) is retried with another quorum while the
 * request's deadline allows, leaving out whoever the failure points at; when no such quorum is
 * left, the retry waits first (see `repeatDelayMs`).
 */
import type { Bytes } from '../../protocol/core/codec.ts';
import { partyId } from '../../protocol/core/ids.ts';
import { SIGN_REQUEST_DEFAULTS, taprootField } from '../../cluster/control.ts';
import { bitcoinNetworkFor } from '../../cluster/policy/evaluate.ts';
import { signedContent } from '../../cluster/policy/signed-content.ts';
import { planSigningKey, schemeOf } from '../../protocol/schemes/index.ts';
import { pathSteps, ServiceError, type KeyInfo, type NodeId, type RequestContext, type SignReceipt, type SignRequest, type SignResult } from '../service.ts';
import { ENGINE_DEFAULTS } from './defaults.ts';
import type { EngineContext } from './context.ts';
import type { Command } from './dispatch.ts';

type AttemptOutcome =
  | { readonly ok: true; readonly signature: Uint8Array; readonly recoveryId: number; readonly receipts: readonly SignReceipt[] }
  | {
      readonly ok: false;
      /** What callers may see (see NodeReport `failed`); `reason` is for the log. */
      readonly code: string;
      readonly reason: string;
      readonly culprits: readonly NodeId[];
      readonly unresponsive: readonly NodeId[];
      readonly accuser?: NodeId;
      readonly timedOut?: true;
    };

export async function sign(ctx: EngineContext, keyId: string, request: SignRequest, rc: RequestContext): Promise<SignResult> {
  const started = performance.now();
  const key = ctx.opts.registry.get(keyId);
  const done = (outcome: string) => ctx.opts.observe?.signed?.(key?.scheme ?? 'unknown', outcome, (performance.now() - started) / 1000);
  try {
    if (!key) throw new ServiceError('key_not_found', `no key ${keyId}`);
    const result = await signWith(ctx, key, request, rc);
    done('ok');
    return result;
  } catch (e) {
    done(e instanceof ServiceError ? e.code : 'internal');
    throw e;
  }
}

async function signWith(ctx: EngineContext, key: KeyInfo, request: SignRequest, rc: RequestContext): Promise<SignResult> {
  const keyId = key.id;
  if (key.status === 'disabled') throw new ServiceError('key_disabled', `key ${keyId} is disabled`);
  const scheme = schemeOf(key.scheme);
  const publicKey = signingKey(key, request);
  // What the nodes will sign, computed as they will (each does it again itself): a request they
  // would refuse as malformed is answered here, and the signature is checked against it.
  const fields = {
    scheme: key.scheme,
    message: request.message as Bytes,
    hash: request.hash ?? '',
    transaction: request.transaction ?? '',
    input: request.input ?? 0,
    expectedDigest: (request.expectedDigest ?? SIGN_REQUEST_DEFAULTS.expectedDigest) as Bytes,
  } as const;
  const signed = signedContent(fields, publicKey, bitcoinNetworkFor(ctx.policy.policy, keyId, key.label));
  if ('problem' in signed) throw new ServiceError('invalid_request', signed.problem);
  const digest = signed.bytes;
  ctx.dispatch.admit();
  const target = { keyId, derivationPath: request.derivationPath ?? '', ...(request.taproot ? { taproot: request.taproot } : {}) };
  const failed = new Set<NodeId>();
  let repeats = 0;
  let lastReason = '';
  let lastCode = '';
  for (let attempt = 1; ; attempt++) {
    const remaining = rc.deadline - Date.now();
    if (remaining <= 0) throw new ServiceError('deadline_exceeded', `signing did not finish in time${lastCode ? ` (last failure: ${lastCode})` : ''}`);
    // The first attempt uses a presignature when the pool has one whose signers are all fit to
    // sign; a retry signs in full (the presignature's signers are the ones that just failed).
    const presigned = attempt === 1 ? ctx.presign.take(key, target, (n) => ctx.liveness.isOnline(n) && !ctx.reputation.isSuspect(n)) : undefined;
    const quorum = presigned ? [...presigned.signers] : ctx.reputation.pickQuorum(key, key.nodes.filter((n) => ctx.liveness.isOnline(n)), failed);
    const command = ctx.dispatch.command('sign', {
      ...fields,
      keyId,
      derivationPath: request.derivationPath ?? '',
      taproot: taprootField(request.taproot),
      epoch: key.epoch ?? 0,
      signers: quorum.map(partyId),
      requestId: request.requestId ?? '',
      deadline: request.deadline ?? 0,
      approvals: (request.approvals ?? []).map((a) => ({ approver: a.approver, signature: a.signature as Bytes })),
      policyHash: ctx.policy.hash as Bytes,
      presignature: presigned ? [presigned.ref] : [],
    });
    if (attempt > 1) {
      ctx.opts.observe?.retry?.();
      rc.emit({ type: 'retried', session: command.session, attempt, nodes: quorum });
    }
    rc.emit({ type: 'started', session: command.session, operation: 'sign', keyId, nodes: quorum });
    const attemptMs = ctx.opts.attemptTimeoutMs ?? ENGINE_DEFAULTS.attemptTimeoutMs;
    // A deadline the client set shorter than an attempt is the client's choice, not the nodes' fault.
    const clientCut = remaining < attemptMs;
    const outcome = await signAttempt(ctx, command, quorum, Math.min(remaining, attemptMs));
    if (outcome.ok && scheme.verify(publicKey, digest, outcome.signature, scheme.recoveryId ? outcome.recoveryId : undefined)) {
      for (const n of quorum) ctx.reputation.clearFailures(n); // a quorum that signs has proven itself
      rc.emit({ type: 'completed', session: command.session, ok: true });
      return {
        signature: Buffer.from(outcome.signature).toString('hex'),
        publicKey: Buffer.from(publicKey).toString('hex'),
        signers: quorum,
        ...(scheme.recoveryId ? { recoveryId: outcome.recoveryId as 0 | 1 } : {}),
        ...scheme.signatureForms?.(outcome.signature),
        ...(request.hash || (request.transaction && request.transaction !== 'solana') ? { digest: Buffer.from(digest).toString('hex') } : {}),
        ...(outcome.receipts.length ? { receipts: outcome.receipts } : {}),
      };
    }
    if (outcome.ok) {
      // Never returned: an invalid signature means a node lied; leave the whole quorum out of the retry.
      lastReason = 'the nodes produced a signature that does not verify';
      lastCode = 'invalid_signature';
      ctx.opts.observe?.invalidSignature?.();
      for (const n of quorum) failed.add(n);
    } else if (outcome.code === 'presignature_unavailable') {
      // Not a fault: the node lost it (a restart) or never made it. The retry signs in full.
      lastReason = outcome.reason;
      lastCode = outcome.code;
      for (const n of outcome.unresponsive) ctx.presign.forgetNode(n);
    } else if (outcome.code === 'policy_denied') {
      // Every node holds the same policy: another quorum would refuse the same way.
      rc.emit({ type: 'completed', session: command.session, ok: false, error: outcome.code });
      throw new ServiceError('policy_denied', outcome.reason.replace(/^node \d+: /, ''));
    } else {
      lastReason = outcome.reason;
      lastCode = outcome.code;
      // A node that missed a policy version (it was away) gets it before the retry.
      if (outcome.code === 'policy_mismatch') for (const n of outcome.unresponsive) void ctx.policy.pushTo([n]);
      ctx.reputation.blame(outcome.culprits, outcome.accuser);
      // An accusation is a dispute until corroborated: the retry leaves out the accused and the accuser.
      const disputed = outcome.culprits.length && outcome.accuser !== undefined ? [outcome.accuser] : [];
      const unresponsive = clientCut && outcome.timedOut ? [] : outcome.unresponsive;
      for (const n of [...outcome.culprits, ...unresponsive, ...disputed]) {
        failed.add(n);
        ctx.reputation.noteFailure(n);
        rc.emit({ type: 'signer_failed', session: command.session, node: n, reason: outcome.code });
      }
    }
    rc.emit({ type: 'completed', session: command.session, ok: false, error: lastCode });
    ctx.opts.log?.('sign_attempt_failed', { keyId, attempt, quorum, reason: lastReason });
    const fresh = key.nodes.filter((n) => ctx.liveness.isOnline(n) && !failed.has(n));
    if (fresh.length < key.threshold) await pause(Math.min(repeatDelayMs(repeats++), rc.deadline - Date.now()));
  }
}

/**
 * How long the `repeats`-th retry that repeats a failed node waits. Without it a fault that
 * persists (a burned OT pair in a t-of-t key, a node that refuses) is retried as fast as the
 * network allows until the deadline: hundreds of attempts, each one the nodes admit counting
 * against the key's policy limits (SECURITY.md) and each costing the nodes a session. Doubling
 * keeps a transient fault's retry quick; the jitter keeps requests that failed together apart.
 */
export function repeatDelayMs(repeats: number, random: () => number = Math.random): number {
  const full = Math.min(ENGINE_DEFAULTS.repeatRetryMaxMs, ENGINE_DEFAULTS.repeatRetryFirstMs * 2 ** repeats);
  return full * (0.5 + random() / 2);
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** How long a finished signature waits for signers' receipts still on their way. */
const RECEIPT_GRACE_MS = 500;

async function signAttempt(ctx: EngineContext, command: Command, quorum: readonly NodeId[], timeoutMs: number): Promise<AttemptOutcome> {
  const reported = new Set<NodeId>();
  const receipts = new Map<NodeId, SignReceipt>();
  const expectReceipts = ctx.policy.policy !== undefined;
  let signedBy: { signature: Uint8Array; recoveryId: number } | undefined;
  let grace: NodeJS.Timeout | undefined;
  const outcome = await ctx.dispatch.race<AttemptOutcome>(command, quorum, timeoutMs, {
    onReport: (node, report, settle) => {
      const settleSigned = () => {
        clearTimeout(grace);
        settle({ ok: true, ...signedBy!, receipts: quorum.flatMap((n) => receipts.get(n) ?? []) });
      };
      if (report.type === 'receipt') {
        receipts.set(node, { node, receipt: Buffer.from(report.receipt).toString('utf8'), signature: Buffer.from(report.signature).toString('hex') });
        if (signedBy && receipts.size === quorum.length) settleSigned();
        return;
      }
      reported.add(node);
      if (report.type === 'sign_done') {
        signedBy = { signature: report.signature, recoveryId: report.recoveryId };
        if (!expectReceipts || receipts.size === quorum.length) settleSigned();
        else grace = setTimeout(settleSigned, RECEIPT_GRACE_MS);
      } else if (report.type === 'failed') {
        // With culprits, the protocol proved who misbehaved; without, the reporter itself could not go on.
        const culprits = report.culprits.filter((c) => quorum.includes(c));
        settle({ ok: false, code: report.code, reason: `node ${node}: ${report.reason}`, culprits, unresponsive: culprits.length ? [] : [node], accuser: node });
      }
    },
    onUnreachable: (node) => ({ ok: false, code: 'unreachable', reason: `node ${node} is unreachable`, culprits: [], unresponsive: [node] }),
    onTimeout: () => ({ ok: false, code: 'timeout', reason: `no signature within ${timeoutMs} ms`, culprits: [], unresponsive: quorum.filter((n) => !reported.has(n)), timedOut: true }),
  });
  if (!outcome.ok) {
    ctx.reputation.attemptFailed(command.session, quorum);
    ctx.dispatch.cancel(quorum, command.session);
  }
  return outcome;
}

/** The user-facing key the signature verifies under: the root's, a derived child's, or a Taproot output key. */
function signingKey(key: KeyInfo, request: SignRequest): Uint8Array {
  if (!request.derivationPath && !request.taproot) return Buffer.from(key.publicKey, 'hex');
  if (request.taproot && key.taprootOutputOnly) {
    throw new ServiceError('unsupported', `key ${key.id} was made before 0.2: its key is already a BIP86 output key, so it signs key-path spends without the taproot option and cannot commit to a script tree`);
  }
  const steps = request.derivationPath ? pathSteps(request.derivationPath) : [];
  if (!key.groupKey) throw new ServiceError('unsupported', 'this key predates derivation support');
  try {
    const scheme = schemeOf(key.scheme);
    return planSigningKey(scheme, { groupKey: Buffer.from(key.groupKey, 'hex'), chainCode: Buffer.from(key.chainCode, 'hex') }, steps, request.taproot).publicKey;
  } catch (e) {
    throw new ServiceError('invalid_request', (e as Error).message);
  }
}
