/**
 * Signing on a node. The node checks the request against its own records (its share at the
 * named epoch, the scheme, burned pairwise setups), derives a child itself from its own copy of
 * the key (the coordinator signed the path; nothing else it says about the child is trusted),
 * and releases the share to the protocol only once its use is on record and its session id is
 * claimed for good. A request that names a presignature signs in one flight with it, once it is
 * gone from this node's store for good (node/store/presignatures.ts).
 */
import { createHash } from 'node:crypto';
import { taprootSpendOf, type PresignatureRef, type SignRequest } from '../../cluster/control.ts';
import { bytes, encodeCbor, struct, text, uint, type Bytes } from '../../protocol/core/codec.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import { MAX_PATH_CHARS } from '../../protocol/derive.ts';
import type { SchemeSignature } from '../../protocol/schemes/index.ts';
import type { Refusal } from '../store/share-access.ts';
import { presignatureId } from '../store/presignatures.ts';
import { constantTimeEqual, zeroize } from '../../protocol/core/transcript.ts';
import { beginSigning, machineFor, pairwiseHooks, prepareShare } from './signing-share.ts';
import type { SessionMachine } from '../session/runner.ts';
import type { SigningJob } from '../session/signing-job.ts';
import { refuse, type NodeContext } from './context.ts';
import { admitSign } from './policy-gate.ts';

/**
 * The public inputs a node binds into a DKLs23 signing transcript beyond the protocol's own (the
 * hash and Taproot spend change the digest and the key, which the protocol binds already).
 */
const signContextCodec = struct<{ keyId: string; epoch: number; derivationPath: string; policyHash: Bytes }>({
  keyId: text(128),
  epoch: uint(2 ** 32),
  derivationPath: text(MAX_PATH_CHARS),
  policyHash: bytes(32),
});

export async function startSign(ctx: NodeContext, request: SignRequest): Promise<void> {
  // The claim's synced write overlaps the share's loading and the audit entry: all three are
  // done before the share is used.
  const begun = await beginSigning(ctx, request);
  if (!begun) return;
  const { claimed, id, signers, planned } = begun;
  const { stored, scheme, plan } = planned;
  const { key, epoch } = stored;
  const adapter = scheme.adapter;
  const taproot = taprootSpendOf(request.taproot);
  // What is signed (the message, or the digest this node computes itself from a preimage or a
  // transaction), and whether the node's policy allows it: decided before the share is touched.
  const admitted = await admitSign(ctx, id, request, key, plan.publicKey).catch((e: unknown) => ({ ok: false as const, refusal: { code: 'local_failure', reason: `policy check failed: ${(e as Error).message}` } }));
  if (!admitted.ok) {
    zeroize(stored.share);
    return refuse(ctx, id, admitted.refusal);
  }
  const { toSign: signed, policyHash, ended } = admitted.value;
  /** A refusal after admission: the request's approvals stay usable for a retry. */
  const refuseAdmitted = (refusal: Refusal) => {
    void ended(false).catch(() => undefined);
    refuse(ctx, id, refusal);
  };
  const prepared = prepareShare(ctx, planned, signers, true);
  if (!prepared.ok) return refuseAdmitted(prepared.refusal);
  const share = prepared.value;
  let completed = false;
  const dispose = () => {
    share.wipe();
    // A session that did not complete leaves the request's approvals for a retry.
    if (!completed) void ended(false).catch(() => undefined);
  };
  const presignature = request.presignature[0];
  const base = {
    keyId: request.keyId,
    session: id,
    signers,
    messageDigest: createHash('sha256').update(request.message).digest('hex'),
    ...(request.hash ? { hash: request.hash, signedDigest: Buffer.from(signed).toString('hex') } : {}),
    ...(request.derivationPath ? { derivationPath: request.derivationPath } : {}),
    ...(taproot ? { taproot: { merkleRoot: Buffer.from(taproot.merkleRoot ?? new Uint8Array()).toString('hex') }, signingKey: Buffer.from(plan.publicKey).toString('hex') } : {}),
    ...(presignature ? { presignature: presignatureId(presignature.session, presignature.index) } : {}),
  };
  // A named presignature is taken (gone from this node for good, presignatures.ts) alongside the
  // claim and the audit entry; nothing is computed with it before all three are done. If the
  // request goes no further it is simply spent.
  const taking = presignature
    ? takePresignature(ctx, request, presignature, signers, plan.publicKey, epoch).catch((e: unknown) => ({ ok: false as const, refusal: { code: 'local_failure', reason: `presignature store: ${(e as Error).message}` } }))
    : undefined;
  try {
    // The share is released only after its use is on record and its session id is claimed for good.
    const [claim, audit] = await Promise.allSettled([claimed, ctx.audit({ event: 'sign', ...base, outcome: 'started' })]);
    if (claim.status === 'rejected') {
      if (audit.status === 'fulfilled') await ctx.audit({ event: 'sign', ...base, outcome: 'aborted' });
      throw claim.reason;
    }
    if (audit.status === 'rejected') throw audit.reason;
  } catch (e) {
    dispose();
    void taking?.then((t) => t.ok && zeroize(t.value));
    throw e;
  }
  const context = encodeCbor(signContextCodec, { keyId: request.keyId, epoch, derivationPath: request.derivationPath, policyHash: policyHash as Bytes });
  // Retired at once on an abort that proves a pair compromised (the guard already did for a
  // failed KOS check); durable in the background.
  const { guard, aborted } = pairwiseHooks(ctx, adapter, request.keyId, epoch);
  let job: SigningJob = { kind: 'sign', message: signed };
  if (presignature && taking) {
    const taken = await taking;
    if (!taken.ok) {
      dispose();
      void ctx.audit({ event: 'sign', ...base, outcome: 'aborted', reason: taken.refusal.reason }).catch(() => undefined);
      return refuse(ctx, id, taken.refusal);
    }
    job = { kind: 'sign-presigned', message: signed, presignature: taken.value, commitments: presignature.commitments };
  }
  let machine: SessionMachine;
  try {
    machine = machineFor(ctx, planned, share, { id, signers, job, context, guard });
  } catch (e) {
    dispose();
    if (job.kind === 'sign-presigned') zeroize(job.presignature);
    const reason = `cannot start the session: ${(e as Error).message}`;
    void ctx.audit({ event: 'sign', ...base, outcome: 'aborted', reason }).catch(() => undefined);
    return refuse(ctx, id, { code: 'local_failure', reason });
  }
  ctx.sessions.start({
    id,
    keyId: request.keyId,
    parties: signers,
    machine,
    complete: async (output) => {
      const sig = output as SchemeSignature;
      completed = true;
      await ended(true);
      // The share's use went on record (the synced "started" entry) before the share was touched;
      // this entry says how the session ended, and the aggregator's signature does not wait for
      // its fsync. A crash in between leaves "started" without an end: used, outcome unknown. A
      // failed write is counted (mpc_node_audit_write_failures_total), which pages.
      const recorded = ctx.audit({ event: 'sign', ...base, outcome: 'completed' });
      // A signer that only contributed its share reports nothing; the aggregator reports.
      if (!sig) return recorded.then(() => undefined);
      recorded.catch(() => undefined);
      return { type: 'sign_done', session: request.session, signature: sig.signature as Bytes, recoveryId: sig.recoveryId };
    },
    dispose,
    ...(aborted ? { aborted } : {}),
  });
}

/**
 * Takes the presignature the request names, for good, and checks it was made for exactly this
 * request's key, epoch, signer set and signing key. Whatever the check finds, it is gone: a
 * presignature that reached a request it does not fit is not kept for another try.
 */
async function takePresignature(
  ctx: NodeContext,
  request: SignRequest,
  ref: PresignatureRef,
  signers: readonly PartyId[],
  signingKey: Uint8Array,
  epoch: number,
): Promise<{ ok: true; value: Uint8Array } | { ok: false; refusal: Refusal }> {
  const taken = await ctx.vault.takePresignature(request.keyId, presignatureId(ref.session, ref.index));
  if (!taken) return { ok: false, refusal: { code: 'presignature_unavailable', reason: `node ${ctx.self} holds no unused presignature ${presignatureId(ref.session, ref.index)} of key ${request.keyId}` } };
  const misfit =
    taken.epoch !== epoch
      ? `made at epoch ${taken.epoch}`
      : taken.signers.length !== signers.length || taken.signers.some((p, i) => p !== signers[i])
        ? `made for signers ${taken.signers.join(', ')}`
        : !constantTimeEqual(taken.signingKey, signingKey)
          ? 'made for another signing key'
          : undefined;
  if (misfit) {
    zeroize(taken.secret);
    return { ok: false, refusal: { code: 'presignature_unavailable', reason: `presignature ${taken.id} does not fit this request: ${misfit}` } };
  }
  return { ok: true, value: taken.secret };
}
