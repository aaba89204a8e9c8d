/**
 * Which key a signature is made under, worked out from public data only, the same way by the
 * coordinator (to know what to verify the signature under) and by every node (to move its share):
 *
 *   root (group key P, chain code)  --BIP32 / our Ed25519 CKD along the path-->  child C
 *   C  --BIP341 tweak when a Taproot spend is asked (BIP340 keys only)-->  output key Q
 *
 * The plan carries each additive tweak; a node applies them to its share in that order.
 */
import { ProtocolConfigError } from '../core/errors.ts';
import { derive } from '../derive.ts';
import { tapTweak, taprootOutputKey, type TaprootSpend } from './taproot.ts';
import type { SchemeDefinition } from './types.ts';

export interface SigningKeyPlan {
  /** δ of the derivation path (absent for the root). */
  readonly derivationTweak?: Uint8Array;
  /** BIP341's t on the child's x-only key (absent without a Taproot spend). */
  readonly taprootTweak?: Uint8Array;
  /** The child's full point before any Taproot tweak (the root's group key for an empty path). */
  readonly childKey: Uint8Array;
  /** The user-facing key the signature verifies under. */
  readonly publicKey: Uint8Array;
}

export function planSigningKey(
  scheme: SchemeDefinition,
  root: { readonly groupKey: Uint8Array; readonly chainCode: Uint8Array },
  path: readonly number[],
  taproot?: TaprootSpend,
): SigningKeyPlan {
  if (taproot && !scheme.taproot) throw new ProtocolConfigError(`${scheme.name} keys do not make Taproot signatures`);
  const child = path.length ? derive(scheme.curve, root.groupKey, root.chainCode, path) : undefined;
  const childKey = child?.publicKey ?? root.groupKey;
  const derivation = child ? { derivationTweak: child.tweak } : {};
  if (!taproot) return { ...derivation, childKey, publicKey: scheme.userKey(childKey) };
  return { ...derivation, taprootTweak: tapTweak(childKey, taproot), childKey, publicKey: taprootOutputKey(childKey, taproot) };
}

/**
 * The share a node signs with under `plan`, and every share object made on the way (to wipe with
 * the parent when the session ends).
 */
export function shareForPlan<S>(scheme: SchemeDefinition, share: S, plan: SigningKeyPlan): { readonly share: S; readonly made: readonly S[] } {
  const adapter = scheme.adapter;
  const made: unknown[] = [];
  let current: unknown = share;
  if (plan.derivationTweak) made.push((current = adapter.tweak(current, plan.derivationTweak)));
  if (plan.taprootTweak) {
    if (!adapter.tweakXOnly) throw new ProtocolConfigError(`${scheme.name} keys do not make Taproot signatures`);
    made.push((current = adapter.tweakXOnly(current, plan.taprootTweak)));
  }
  return { share: current as S, made: made as S[] };
}
