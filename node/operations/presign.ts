/**
 * Presigning on a node: work done ahead of a message, kept in the node's presignature store
 * (node/store/presignatures.ts) until one sign request uses it.
 *
 * - DKLs23: the signers run one presigning session (rounds 1–2 and round 3's checks) for up to
 *   `maxPerSession` presignatures in lockstep; each stores its parts once the session completes.
 * - FROST: this node alone makes `count` nonce pairs, stores them and reports their commitments.
 *
 * Each is bound to the key, its epoch, the signer set and the signing key the request's path and
 * Taproot spend select (the node plans that key from its own copy, as for signing); the public
 * inputs go into the presigning transcript like a signature's.
 */
import { MAX_PRESIGN_BATCH, type PresignRequest } from '../../cluster/control.ts';
import { encodeCbor, text, uint, struct, type Bytes } from '../../protocol/core/codec.ts';
import { zeroize } from '../../protocol/core/transcript.ts';
import { MAX_PATH_CHARS } from '../../protocol/derive.ts';
import { presignatureId, type Presignature } from '../store/presignatures.ts';
import { refuse, type NodeContext } from './context.ts';
import { beginSigning, machineFor, pairwiseHooks, prepareShare } from './signing-share.ts';
import type { SessionMachine } from '../session/runner.ts';

/** The public inputs a node binds into a presigning transcript beyond the protocol's own. */
const presignContextCodec = struct<{ keyId: string; epoch: number; derivationPath: string }>({ keyId: text(128), epoch: uint(2 ** 32), derivationPath: text(MAX_PATH_CHARS) });

export async function startPresign(ctx: NodeContext, request: PresignRequest): Promise<void> {
  const begun = await beginSigning(ctx, request);
  if (!begun) return;
  const { claimed, id, signers, planned } = begun;
  const { stored, scheme } = planned;
  if (signers.length < stored.key.threshold) {
    zeroize(stored.share);
    return refuse(ctx, id, { reason: `${signers.length} signers cannot sign a ${stored.key.threshold}-of-${stored.key.parties.length} key` });
  }
  const support = scheme.adapter.presign;
  const count = request.count;
  const most = support.kind === 'interactive' ? support.maxPerSession : MAX_PRESIGN_BATCH;
  if (count < 1 || count > most) {
    zeroize(stored.share);
    return refuse(ctx, id, { reason: `cannot make ${count} presignatures in one ${support.kind === 'interactive' ? 'session' : 'request'} (at most ${most})` });
  }
  // FROST nonces are made here; a DKLs23 session may run on a protocol worker.
  const prepared = prepareShare(ctx, planned, signers, support.kind === 'interactive');
  if (!prepared.ok) return refuse(ctx, id, prepared.refusal);
  const share = prepared.value;
  const { wipe } = share;
  try {
    await claimed;
  } catch (e) {
    wipe();
    throw e;
  }
  const { epoch } = stored;
  // The key the signature will verify under: what a sign request's plan must match to use it.
  const signingKey = planned.plan.publicKey;
  const made = (index: number, secret: Uint8Array): Presignature => ({ keyId: request.keyId, epoch, id: presignatureId(request.session, index), signers, signingKey, secret });
  const save = async (presignatures: Presignature[]): Promise<boolean> => {
    try {
      return await ctx.vault.savePresignatures(presignatures);
    } finally {
      for (const p of presignatures) zeroize(p.secret);
    }
  };

  if (support.kind === 'local') {
    if (share.kind !== 'decoded') throw new Error('FROST nonces are made from a decoded share');
    const { signingShare } = share;
    const presignatures: Presignature[] = [];
    const commitments: { hiding: Bytes; binding: Bytes }[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const { secret, commitments: c } = support.make(signingShare, ctx.rng);
        presignatures.push(made(i, secret));
        commitments.push({ hiding: c.hiding as Bytes, binding: c.binding as Bytes });
      }
    } finally {
      wipe();
    }
    if (!(await save(presignatures))) return refuse(ctx, id, { reason: `key ${request.keyId} is no longer at epoch ${epoch}` });
    ctx.report({ type: 'presign_done', session: request.session, keyId: request.keyId, commitments });
    return;
  }

  const context = encodeCbor(presignContextCodec, { keyId: request.keyId, epoch, derivationPath: request.derivationPath });
  const { guard, aborted } = pairwiseHooks(ctx, scheme.adapter, request.keyId, epoch);
  let machine: SessionMachine;
  try {
    machine = machineFor(ctx, planned, share, { id, signers, job: { kind: 'presign', count }, context, guard });
  } catch (e) {
    wipe();
    return refuse(ctx, id, { code: 'local_failure', reason: `cannot start the session: ${(e as Error).message}` });
  }
  ctx.sessions.start({
    id,
    keyId: request.keyId,
    parties: signers,
    machine,
    complete: async (output) => {
      const parts = output as Uint8Array[];
      if (parts.length !== count) {
        for (const p of parts) zeroize(p);
        throw new Error(`the session made ${parts.length} presignatures, not ${count}`);
      }
      if (!(await save(parts.map((secret, index) => made(index, secret))))) throw new Error(`key ${request.keyId} is no longer at epoch ${epoch}`);
      return { type: 'presign_done', session: request.session, keyId: request.keyId, commitments: [] };
    },
    dispose: wipe,
    ...(aborted ? { aborted } : {}),
  });
}
