/**
 * Signing on a node. The node checks the request against its own records (its share at the
 * named epoch, the scheme, burned pairwise setups), derives a child itself from its own copy of
 * the key (the coordinator signed the path; nothing else it says about the child is trusted),
 * and releases the share to the protocol only once its use is on record and its session id is
 * claimed for good.
 */
import { createHash } from 'node:crypto';
import { taprootSpendOf, type SignRequest } from '../../cluster/control.ts';
import { bytes, encodeCbor, struct, text, uint, type Bytes } from '../../protocol/core/codec.ts';
import { sessionId, sortedParties } from '../../protocol/core/ids.ts';
import type { ProtocolAbort } from '../../protocol/core/errors.ts';
import { MAX_PATH_CHARS, parsePath } from '../../protocol/derive.ts';
import { planSigningKey, schemeOf, shareForPlan, type SchemeSignature, type SigningKeyPlan } from '../../protocol/schemes/index.ts';
import { decodeShare, loadAtEpoch, type Refusal } from '../store/share-access.ts';
import { zeroize } from '../../protocol/core/transcript.ts';
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
  // done before the share is used (a refused claim is reported by claimSession and ends here).
  const claimed = ctx.claimSession(request.keyId, request.session);
  claimed.catch(() => undefined);
  const id = sessionId(request.session);
  const signers = sortedParties(request.signers);
  if (!signers.includes(ctx.self)) return refuse(ctx, id, { reason: `node ${ctx.self} is not a signer of this request` });
  const loaded = await loadAtEpoch(ctx.vault, ctx.self, request.keyId, request.epoch);
  if (!loaded.ok) return refuse(ctx, id, loaded.refusal);
  const stored = loaded.value;
  const { key, epoch } = stored;
  const scheme = schemeOf(key.scheme);
  const adapter = scheme.adapter;
  // Until decodeShare takes it, the unsealed share is this function's to zeroise.
  const refuseLoaded = (refusal: Refusal) => {
    zeroize(stored.share);
    refuse(ctx, id, refusal);
  };
  // The node's own copy of the key says what it is; a request that says otherwise goes no further.
  if (key.scheme !== request.scheme) return refuseLoaded({ reason: `key ${request.keyId} is ${key.scheme}, not ${request.scheme}` });
  const taproot = taprootSpendOf(request.taproot);
  let plan: SigningKeyPlan;
  try {
    plan = planSigningKey(scheme, key, request.derivationPath ? parsePath(request.derivationPath) : [], taproot);
  } catch (e) {
    return refuseLoaded({ reason: `cannot derive the signing key: ${(e as Error).message}` });
  }
  // What is signed (the message, or the digest this node computes itself from a preimage or a
  // transaction), and whether the node's policy allows it: decided before the share is touched.
  const admitted = await admitSign(ctx, id, request, key, plan.publicKey).catch((e: unknown) => ({ ok: false as const, refusal: { code: 'local_failure', reason: `policy check failed: ${(e as Error).message}` } }));
  if (!admitted.ok) return refuseLoaded(admitted.refusal);
  const { toSign: signed, policyHash, ended } = admitted.value;
  /** A refusal after admission: the request's approvals stay usable for a retry. */
  const refuseAdmitted = (refusal: Refusal) => {
    void ended(false).catch(() => undefined);
    refuse(ctx, id, refusal);
  };
  const decoded = decodeShare(adapter, stored, () => (adapter.pairwiseSetup ? ctx.pairs.refusal(request.keyId, epoch, signers, stored.burned) : undefined));
  if (!decoded.ok) return refuseAdmitted(decoded.refusal);
  const share = decoded.value;
  let forPlan: ReturnType<typeof shareForPlan<unknown>>;
  try {
    forPlan = shareForPlan(scheme, share, plan);
  } catch (e) {
    adapter.wipe(share);
    return refuseAdmitted({ reason: `cannot tweak the share: ${(e as Error).message}` });
  }
  const { share: signingShare, made } = forPlan;
  let completed = false;
  const dispose = () => {
    adapter.wipe(share);
    for (const s of made) adapter.wipe(s);
    // A session that did not complete leaves the request's approvals for a retry.
    if (!completed) void ended(false).catch(() => undefined);
  };
  const base = {
    keyId: request.keyId,
    session: id,
    signers,
    messageDigest: createHash('sha256').update(request.message).digest('hex'),
    ...(request.hash ? { hash: request.hash, signedDigest: Buffer.from(signed).toString('hex') } : {}),
    ...(request.derivationPath ? { derivationPath: request.derivationPath } : {}),
    ...(taproot ? { taproot: { merkleRoot: Buffer.from(taproot.merkleRoot ?? new Uint8Array()).toString('hex') }, signingKey: Buffer.from(plan.publicKey).toString('hex') } : {}),
  };
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
    throw e;
  }
  const context = encodeCbor(signContextCodec, { keyId: request.keyId, epoch, derivationPath: request.derivationPath, policyHash: policyHash as Bytes });
  const pairwise = adapter.pairwiseSetup;
  ctx.sessions.start({
    id,
    keyId: request.keyId,
    protocol: adapter.signProtocol(share),
    parties: signers,
    start: adapter.sign(signingShare, signed, { context, ...(pairwise ? { guard: ctx.pairs.guard(request.keyId, epoch) } : {}) }),
    complete: async (output) => {
      const sig = output as SchemeSignature;
      completed = true;
      await ended(true);
      await ctx.audit({ event: 'sign', ...base, outcome: 'completed' });
      // A signer that only contributed its share reports nothing; the aggregator reports.
      return sig ? { type: 'sign_done', session: request.session, signature: sig.signature as Bytes, recoveryId: sig.recoveryId } : undefined;
    },
    dispose,
    ...(pairwise
      ? {
          aborted: (abort: ProtocolAbort) => {
            // Retired at once (the guard already did for a failed KOS check); durable in the background.
            for (const peer of pairwise.compromisedBy(abort)) ctx.pairs.retire(request.keyId, epoch, peer);
          },
        }
      : {}),
  });
}
