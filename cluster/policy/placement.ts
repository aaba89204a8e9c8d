/**
 * Placement: no single provider vendor may protect `threshold` or more of a key's shares (one
 * cloud's insider, one HSM model's flaw would then be the whole key). Each node checks the
 * committee it is asked to join against the vendors the policy lists, and that the policy's word
 * on its own vendor is true, at key generation and at resharing.
 */
import type { PartyId } from '../../protocol/core/ids.ts';
import type { Policy } from './document.ts';

/** Why `committee` may not hold a key with `threshold` under the policy's placement, or undefined when it may. */
export function committeeViolation(policy: Policy | undefined, threshold: number, committee: readonly PartyId[]): string | undefined {
  const placement = policy?.placement;
  if (!placement || placement.allowSingleVendorQuorum) return undefined;
  const byVendor = new Map<string, PartyId[]>();
  for (const p of committee) {
    const vendor = placement.vendors[String(p)];
    if (!vendor) return `the policy does not say which vendor protects node ${p}'s shares`;
    byVendor.set(vendor, [...(byVendor.get(vendor) ?? []), p]);
  }
  for (const [vendor, nodes] of byVendor) {
    if (nodes.length >= threshold) return `${vendor} would protect ${nodes.length} shares (nodes ${nodes.join(', ')}), enough to sign alone with threshold ${threshold}`;
  }
  return undefined;
}

/** A node's own check: the policy's word on its vendor must be true, and the committee placed well. */
export function placementViolation(policy: Policy | undefined, threshold: number, committee: readonly PartyId[], self: PartyId, ownVendor: string): string | undefined {
  const declared = policy?.placement?.vendors[String(self)];
  if (declared && declared !== ownVendor && !declared.startsWith(`${ownVendor}:`)) {
    return `the policy places node ${self} with ${declared}, but it seals its shares with ${ownVendor}`;
  }
  return committeeViolation(policy, threshold, committee);
}
