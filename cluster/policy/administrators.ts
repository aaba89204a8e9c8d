/**
 * Administrators' signatures over a policy version. Each signs the policy's hash (so the bytes
 * they reviewed are what nodes apply); a node accepts the version only with `threshold` valid
 * signatures of distinct administrators the cluster manifest lists, and only when its number is
 * higher than the version it holds (`PolicyLedger`): the coordinator alone can neither write,
 * downgrade nor replay a policy.
 */
import { sign as edSign, verify as edVerify } from 'node:crypto';
import { ed25519PrivateKey, ed25519PublicKey } from '../../protocol/curves/curve25519-keys.ts';
import { verifyMlDsa } from '../providers/mldsa.ts';
import type { Administrators } from '../transport/manifest.ts';
import { domainSeparated } from '../../contract/domain-separated.ts';

export interface AdminSignature {
  readonly admin: string;
  /** Ed25519 over `adminSigningInput(policyHash)`. */
  readonly signature: Uint8Array;
  /** ML-DSA-65 over the same input: required from administrators whose manifest entry pins an ML-DSA key. */
  readonly mldsaSignature?: Uint8Array;
}

export const adminSigningInput = (policyHash: Uint8Array): Uint8Array => domainSeparated('mpc-signer/policy-signature/v1', policyHash);

/** An administrator's Ed25519 signature of a policy (the CLI's `mpc policy sign`). */
export function signPolicyHash(seed: Uint8Array, policyHash: Uint8Array): Uint8Array {
  return new Uint8Array(edSign(null, adminSigningInput(policyHash), ed25519PrivateKey(seed)));
}

/**
 * Which administrators validly signed `policyHash`; undefined when fewer than the manifest's
 * threshold did (the reason says why, for the refusal).
 */
export function checkAdminSignatures(admins: Administrators | undefined, policyHash: Uint8Array, signatures: readonly AdminSignature[]): { ok: true; signers: string[] } | { ok: false; reason: string } {
  if (!admins) return { ok: false, reason: 'the cluster manifest names no policy administrators' };
  const input = adminSigningInput(policyHash);
  const valid = new Set<string>();
  const problems: string[] = [];
  for (const s of signatures) {
    const admin = admins.members.get(s.admin);
    if (!admin) {
      problems.push(`${s.admin} is not an administrator`);
      continue;
    }
    const classical = s.signature.length === 64 && edVerify(null, input, ed25519PublicKey(admin.identityKey), s.signature);
    const pq = !admin.mldsaKey || (!!s.mldsaSignature && verifyMlDsa(admin.mldsaKey, input, s.mldsaSignature));
    if (classical && pq) valid.add(s.admin);
    else problems.push(`${s.admin}'s signature does not verify${classical ? ' (ML-DSA-65)' : ''}`);
  }
  if (valid.size >= admins.threshold) return { ok: true, signers: [...valid].sort() };
  return { ok: false, reason: `policy needs ${admins.threshold} administrator signatures, has ${valid.size} valid${problems.length ? ` (${problems.join('; ')})` : ''}` };
}
