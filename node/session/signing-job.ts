/**
 * What a signing or presigning session runs, from its share and a job described by values: the
 * one place that turns "sign this", "sign this with that presignature" or "presign" into a
 * protocol start. The main thread calls it with a decoded share; a protocol worker
 * (worker-main.ts) calls it after decoding the share bytes it was handed.
 */
import type { ProtocolStart } from '../../protocol/core/party.ts';
import type { OtPairGuard } from '../../protocol/dkls23/sign.ts';
import type { AnySchemeAdapter, SchemeSignature } from '../../protocol/schemes/index.ts';
import type { FrostCommitments } from '../../protocol/frost/presigned.ts';

export type SigningJob =
  | { readonly kind: 'sign'; readonly message: Uint8Array }
  /** Consumes `presignature` (the adapter zeroises it, whatever happens). */
  | { readonly kind: 'sign-presigned'; readonly message: Uint8Array; readonly presignature: Uint8Array; readonly commitments: readonly FrostCommitments[] }
  /** An interactive presigning session (DKLs23); FROST makes its nonces without one. */
  | { readonly kind: 'presign' };

export interface JobStart {
  readonly protocol: string;
  readonly start: ProtocolStart<SchemeSignature | Uint8Array | undefined>;
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
      return { protocol: presign.protocol, start: presign.start(signingShare, withGuard) };
  }
}
