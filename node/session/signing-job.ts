/**
 * What a signing or presigning session runs, from its share and a job described by values: the
 * one place that decodes a share for a signing key and turns "sign this", "sign this with that
 * presignature" or "presign" into a protocol start. The main thread and the protocol workers
 * (worker-main.ts) both use it.
 */
import type { ProtocolStart } from '../../protocol/core/party.ts';
import { zeroize } from '../../protocol/core/transcript.ts';
import type { OtPairGuard } from '../../protocol/dkls23/sign.ts';
import { shareForPlan, type AnySchemeAdapter, type SchemeDefinition, type SchemeSignature, type SigningKeyPlan } from '../../protocol/schemes/index.ts';
import type { FrostCommitments } from '../../protocol/frost/presigned.ts';

export type SigningJob =
  | { readonly kind: 'sign'; readonly message: Uint8Array }
  /** Consumes `presignature` (the adapter zeroises it, whatever happens). */
  | { readonly kind: 'sign-presigned'; readonly message: Uint8Array; readonly presignature: Uint8Array; readonly commitments: readonly FrostCommitments[] }
  /** An interactive presigning session (DKLs23) making `count` presignatures; FROST makes its nonces without one. */
  | { readonly kind: 'presign'; readonly count: number };

export interface JobStart {
  readonly protocol: string;
  readonly start: ProtocolStart<SchemeSignature | Uint8Array[] | undefined>;
}

/** The protocol start of `job` with `signingShare` (already derived and tweaked to the signing key). */
export function startJob(adapter: AnySchemeAdapter, signingShare: unknown, job: SigningJob, context: Uint8Array, guard: OtPairGuard | undefined): JobStart {
  const withGuard = { context, ...(guard ? { guard } : {}) };
  const presign = adapter.presign;
  switch (job.kind) {
    case 'sign':
      return { protocol: adapter.signProtocol(signingShare), start: adapter.sign(signingShare, job.message, withGuard) };
    case 'sign-presigned':
      return presign.kind === 'interactive'
        ? { protocol: presign.signProtocol, start: presign.sign(signingShare, job.message, job.presignature, { context }) }
        : { protocol: presign.signProtocol(signingShare), start: presign.sign(signingShare, job.message, job.presignature, job.commitments, { context }) };
    case 'presign':
      if (presign.kind !== 'interactive') throw new Error('this scheme presigns without a session');
      return { protocol: presign.protocol(job.count), start: presign.start(signingShare, job.count, withGuard) };
  }
}

/** A decoded share and the share that signs (derived and tweaked to the plan's key); `wipe` zeroises every share object made, once. */
export interface SigningShare {
  readonly signingShare: unknown;
  wipe(): void;
}

/** The share could not be tweaked to the plan's signing key (the decoded share is already wiped). */
export class TweakFailed extends Error {}

/**
 * Decodes `encoded` (zeroised whatever happens) and derives and tweaks the share to `plan`'s
 * signing key. Throws the decoder's error, or TweakFailed.
 */
export function decodeSigningShare(scheme: SchemeDefinition, encoded: Uint8Array, plan: SigningKeyPlan): SigningShare {
  const adapter = scheme.adapter;
  let share: unknown;
  try {
    share = adapter.decode(encoded);
  } finally {
    zeroize(encoded);
  }
  let planned: ReturnType<typeof shareForPlan<unknown>>;
  try {
    planned = shareForPlan(scheme, share, plan);
  } catch (e) {
    adapter.wipe(share);
    throw new TweakFailed((e as Error).message);
  }
  let wiped = false;
  return {
    signingShare: planned.share,
    wipe: () => {
      if (wiped) return;
      wiped = true;
      adapter.wipe(share);
      for (const s of planned.made) adapter.wipe(s);
    },
  };
}
