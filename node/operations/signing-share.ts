/**
 * What signing and presigning both do before a protocol runs: load the share at the request's
 * epoch, check the scheme against the node's own copy, plan the signing key the request selects
 * (derivation path, Taproot spend) from that copy, and decode and tweak the share. The pieces are
 * separate because signing checks its policy between planning and decoding.
 */
import { taprootSpendOf } from '../../cluster/control.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import { sessionId, sortedParties, type PartyId, type SessionId } from '../../protocol/core/ids.ts';
import { zeroize } from '../../protocol/core/transcript.ts';
import { parsePath } from '../../protocol/derive.ts';
import { planSigningKey, schemeOf, type SchemeDefinition, type SigningKeyPlan } from '../../protocol/schemes/index.ts';
import type { Scheme } from '../../protocol/schemes/index.ts';
import type { ProtocolAbort } from '../../protocol/core/errors.ts';
import type { OtPairGuard } from '../../protocol/dkls23/sign.ts';
import type { AnySchemeAdapter } from '../../protocol/schemes/index.ts';
import { loadAtEpoch, type LoadedShare, type Result } from '../store/share-access.ts';
import { refuse, type NodeContext } from './context.ts';
import type { SessionMachine } from '../session/runner.ts';
import { decodeSigningShare, startJob, TweakFailed, type SigningJob, type SigningShare } from '../session/signing-job.ts';

/** The parts of a request that select a share and a signing key. */
export interface SigningTarget {
  readonly keyId: string;
  readonly scheme: Scheme;
  readonly epoch: number;
  readonly derivationPath: string;
  readonly taproot: readonly Bytes[];
}

export interface PlannedShare {
  readonly stored: LoadedShare;
  readonly scheme: SchemeDefinition;
  readonly plan: SigningKeyPlan;
}

/**
 * The start every request that signs or presigns shares: its session id claimed (a synced write
 * that overlaps the share's loading; the caller awaits `claimed` before the share is used, and a
 * refused claim is reported by claimSession), this node among the signers, the share loaded and
 * the signing key planned. Undefined when it was refused (already reported).
 */
export async function beginSigning(
  ctx: NodeContext,
  request: SigningTarget & { readonly session: Bytes; readonly signers: readonly PartyId[] },
): Promise<{ claimed: Promise<SessionId>; id: SessionId; signers: PartyId[]; planned: PlannedShare } | undefined> {
  const claimed = ctx.claimSession(request.keyId, request.session);
  claimed.catch(() => undefined);
  const id = sessionId(request.session);
  const signers = sortedParties(request.signers);
  if (!signers.includes(ctx.self)) return void refuse(ctx, id, { reason: `node ${ctx.self} is not a signer of this request` });
  const planned = await planShare(ctx, request);
  if (!planned.ok) return void refuse(ctx, id, planned.refusal);
  return { claimed, id, signers, planned: planned.value };
}

/** Loads the share and plans the signing key; on a refusal the loaded bytes are already zeroised. */
async function planShare(ctx: NodeContext, target: SigningTarget): Promise<Result<PlannedShare>> {
  const loaded = await loadAtEpoch(ctx.vault, ctx.self, target.keyId, target.epoch);
  if (!loaded.ok) return loaded;
  const stored = loaded.value;
  const refuse = (reason: string): Result<PlannedShare> => {
    zeroize(stored.share);
    return { ok: false, refusal: { reason } };
  };
  // The node's own copy of the key says what it is; a request that says otherwise goes no further.
  if (stored.key.scheme !== target.scheme) return refuse(`key ${target.keyId} is ${stored.key.scheme}, not ${target.scheme}`);
  const scheme = schemeOf(stored.key.scheme);
  try {
    const plan = planSigningKey(scheme, stored.key, target.derivationPath ? parsePath(target.derivationPath) : [], taprootSpendOf(target.taproot));
    return { ok: true, value: { stored, scheme, plan } };
  } catch (e) {
    return refuse(`cannot derive the signing key: ${(e as Error).message}`);
  }
}

/**
 * The share a session will run with: decoded here, or still encoded, bound for a protocol worker,
 * which decodes and tweaks it itself. Either way `wipe` zeroises what is left here, once.
 */
export type SessionShare = ({ readonly kind: 'decoded' } & SigningShare) | { readonly kind: 'encoded'; readonly bytes: Uint8Array; wipe(): void };

/**
 * Prepares the planned share for a session with `signers`, refusing when a pairwise setup with
 * one of them is burned: encoded for a worker when the node runs protocol workers and `onWorker`
 * allows it, decoded and tweaked to the signing key here otherwise. The encoded bytes here are
 * zeroised on every path but the hand-over to a worker (`machineFor` moves them).
 */
export function prepareShare(ctx: NodeContext, planned: PlannedShare, signers: readonly PartyId[], onWorker: boolean): Result<SessionShare> {
  const { stored, scheme, plan } = planned;
  const refusal = scheme.adapter.pairwiseSetup ? ctx.pairs.refusal(stored.key.keyId, stored.epoch, signers, stored.burned) : undefined;
  if (refusal) {
    zeroize(stored.share);
    return { ok: false, refusal };
  }
  if (ctx.workers && onWorker) {
    const bytes = stored.share;
    return { ok: true, value: { kind: 'encoded', bytes, wipe: () => zeroize(bytes) } };
  }
  try {
    return { ok: true, value: { kind: 'decoded', ...decodeSigningShare(scheme, stored.share, plan) } };
  } catch (e) {
    if (e instanceof TweakFailed) return { ok: false, refusal: { reason: `cannot tweak the share: ${e.message}` } };
    throw e;
  }
}

/** What a session of `job` runs: the protocol here, or on a worker the share bytes move to. */
export function machineFor(
  ctx: NodeContext,
  planned: PlannedShare,
  share: SessionShare,
  s: { readonly id: SessionId; readonly signers: readonly PartyId[]; readonly job: SigningJob; readonly context: Uint8Array; readonly guard: OtPairGuard | undefined },
): SessionMachine {
  const { stored, scheme, plan } = planned;
  if (share.kind === 'decoded') {
    const { protocol, start } = startJob(scheme.adapter, share.signingShare, s.job, s.context, s.guard);
    return { kind: 'inline', protocol, start };
  }
  const { keyId } = stored.key;
  const epoch = stored.epoch;
  const pairwise = !!scheme.adapter.pairwiseSetup;
  const session = ctx.workers!.start({
    id: s.id,
    keyId,
    epoch,
    self: ctx.self,
    parties: s.signers,
    scheme: scheme.name as Scheme,
    share: share.bytes,
    plan,
    job: s.job,
    context: s.context,
    ...(pairwise ? { retired: ctx.pairs.retiredPeers(keyId, epoch), onRetired: (peer: PartyId) => ctx.pairs.retire(keyId, epoch, peer) } : {}),
  });
  if (!session) throw new Error('every retirement slot of the protocol workers is in use');
  return { kind: 'worker', session };
}

/**
 * For schemes with pairwise setups (DKLs23): the key's retirement guard for the protocol, and the
 * session's abort hook, which retires at once every pair the abort proves compromised (durable in
 * the background). Nothing for the others.
 */
export function pairwiseHooks(ctx: NodeContext, adapter: AnySchemeAdapter, keyId: string, epoch: number): { guard?: OtPairGuard; aborted?: (abort: ProtocolAbort) => void } {
  const pairwise = adapter.pairwiseSetup;
  if (!pairwise) return {};
  return {
    guard: ctx.pairs.guard(keyId, epoch),
    aborted: (abort) => {
      for (const peer of pairwise.compromisedBy(abort)) ctx.pairs.retire(keyId, epoch, peer);
    },
  };
}
