/**
 * A policy version offered to this node: applied only with the administrators' quorum of valid
 * signatures and a version above the one in force (the ledger checks that under its lock). The
 * node answers with the version it enforces, whatever happened, so the coordinator knows.
 */
import type { CoordinatorMessage } from '../../cluster/control.ts';
import { checkAdminSignatures, type AdminSignature } from '../../cluster/policy/administrators.ts';
import { policyFromBytes, policyHash } from '../../cluster/policy/document.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import type { NodeContext } from './context.ts';

export async function applyPolicy(ctx: NodeContext, message: Extract<CoordinatorMessage, { type: 'policy' }>): Promise<void> {
  const answer = async (error: string) => {
    const active = await ctx.policy.active();
    ctx.report({ type: 'policy_status', version: active.version, hash: active.hash as Bytes, error: error.slice(0, 500) });
  };
  let version: number;
  try {
    version = policyFromBytes(message.document).version;
  } catch (e) {
    return answer((e as Error).message);
  }
  const hash = policyHash(message.document);
  const active = await ctx.policy.active();
  if (Buffer.from(hash).equals(Buffer.from(active.hash))) return answer('');
  const signatures: AdminSignature[] = message.signatures.map((s) => ({ admin: s.admin, signature: s.signature, ...(s.mldsaSignature.length ? { mldsaSignature: s.mldsaSignature } : {}) }));
  const checked = checkAdminSignatures(ctx.administrators, hash, signatures);
  const base = { event: 'policy' as const, keyId: '', session: '', signers: [], policyVersion: version, policyHash: Buffer.from(hash).toString('hex') };
  if (!checked.ok) {
    await ctx.audit({ ...base, outcome: 'refused', reason: checked.reason });
    return answer(checked.reason);
  }
  const applied = await ctx.policy.apply(message.document, signatures);
  await ctx.audit({ ...base, outcome: applied.ok ? 'applied' : 'refused', ...(applied.ok ? { rule: `signed by ${checked.signers.join(', ')}` } : { reason: applied.reason }) });
  return answer(applied.ok ? '' : applied.reason);
}
