/** Policy administrators' keys as a simulation holds them (the attacker never has these). */
import type { Administrators } from '../cluster/transport/manifest.ts';
import { ed25519PrivateKey, newEd25519Seed, rawEd25519PublicKey } from '../protocol/curves/curve25519-keys.ts';

export interface AdminKey {
  readonly name: string;
  readonly seed: Uint8Array;
}

/** Fresh administrator keys for an in-memory cluster. */
export function newAdministrators(count: number): AdminKey[] {
  return Array.from({ length: count }, (_, i) => ({ name: `admin-${i + 1}`, seed: newEd25519Seed() }));
}

/** The manifest's administrators entry for these keys. */
export function administratorsOf(threshold: number, keys: readonly AdminKey[]): Administrators {
  return { threshold, members: new Map(keys.map((k) => [k.name, { id: k.name, identityKey: rawEd25519PublicKey(ed25519PrivateKey(k.seed)) }])) };
}
