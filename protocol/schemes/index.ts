/**
 * The registry of signature schemes. Adding a scheme is one module beside this one (a
 * `SchemeDefinition`) and one line in `DEFINITIONS`; the API's enum, the control-message codec,
 * the engine and the node runtime all read this list.
 */
import { ecdsaSecp256k1 } from './ecdsa-secp256k1.ts';
import { eddsaEd25519 } from './eddsa-ed25519.ts';
import { schnorrBip340 } from './schnorr-bip340.ts';
import { digestOf, type MessageHash } from './hashing.ts';
import { messageProblem, type SchemeDefinition } from './types.ts';

const DEFINITIONS = [ecdsaSecp256k1, eddsaEd25519, schnorrBip340] as const;

export type Scheme = (typeof DEFINITIONS)[number]['name'];
export const SCHEMES: readonly Scheme[] = DEFINITIONS.map((d) => d.name);

const BY_NAME = new Map<string, SchemeDefinition<Scheme>>(DEFINITIONS.map((d) => [d.name, d]));

export function isScheme(name: unknown): name is Scheme {
  return typeof name === 'string' && BY_NAME.has(name);
}

export function schemeOf(name: Scheme): SchemeDefinition<Scheme> {
  const d = BY_NAME.get(name);
  if (!d) throw new TypeError(`unknown scheme ${String(name)}`);
  return d;
}

/** Why `message` cannot be signed by `scheme` (undefined: it can). */
export function signableMessageProblem(scheme: Scheme, message: Uint8Array): string | undefined {
  return messageProblem(scheme, schemeOf(scheme).message, message);
}

/**
 * What a sign request's signature is over: `message` itself, or its digest under `hash` (each
 * node computes it; the coordinator too, to verify). A problem when the scheme takes no such
 * hash, the message breaks the scheme's rule, or a preimage is too long.
 */
export function messageToSign(scheme: Scheme, message: Uint8Array, hash: MessageHash | undefined): { readonly bytes: Uint8Array } | { readonly problem: string } {
  const { hashes } = schemeOf(scheme);
  if (hash === undefined) {
    const problem = signableMessageProblem(scheme, message);
    return problem ? { problem } : { bytes: message };
  }
  if (!hashes.includes(hash)) return { problem: hashes.length ? `${scheme} takes hash ${hashes.join(', ')}, not ${hash}` : `${scheme} signs the message itself; it takes no hash` };
  if (message.length > MAX_SIGN_MESSAGE_BYTES) return { problem: `a preimage is at most ${MAX_SIGN_MESSAGE_BYTES} bytes` };
  return { bytes: digestOf(hash, message) };
}

/** The longest message any scheme signs: what control messages must carry. */
export const MAX_SIGN_MESSAGE_BYTES = Math.max(...DEFINITIONS.map((d) => (d.message.kind === 'bounded' ? d.message.maxBytes : d.message.bytes)));

export { BITCOIN_NETWORKS, type Addresses, type BitcoinNetwork } from './addresses.ts';
export { digestOf, isMessageHash, MESSAGE_HASHES, type MessageHash } from './hashing.ts';
export { planSigningKey, shareForPlan, type SigningKeyPlan } from './signing-key.ts';
export { tapTweak, taprootOutputKey, type TaprootSpend } from './taproot.ts';
export type { AnySchemeAdapter, MessageRule, SchemeAdapter, SchemeDefinition, SchemeSignature, SignOptions } from './types.ts';
