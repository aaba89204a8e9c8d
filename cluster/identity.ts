/**
 * A member's Ed25519 identity key: it authenticates the member's channels (libp2p peer id and
 * the hybrid handshake), signs its envelopes, reliable-broadcast digests and audit entries. At
 * rest the 32-byte seed is wrapped by the member's provider, bound to the member id.
 */
import { readFile } from 'node:fs/promises';
import { createAtomically, writeAtomically } from './atomic-file.ts';
import { newEd25519Seed } from '../protocol/curves/curve25519-keys.ts';
import { ed25519Signer, ed25519Verify } from '../protocol/curves/ed25519-signatures.ts';
import { verifyMlDsa } from './providers/mldsa.ts';
import type { IdentitySigner, ShareProtector } from './providers/types.ts';
import type { ClusterManifest } from './transport/manifest.ts';
import type { MemberId } from './transport/types.ts';


export interface Identity {
  readonly member: string;
  /** Secret: kept in memory only, for libp2p's Noise handshake. */
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

interface IdentityFile {
  version: 1;
  member: string;
  publicKey: string;
  provider: string;
  kekRef: string;
  wrapped: string;
}

const aadFor = (member: string) => new TextEncoder().encode(`mpc-signer/identity-seed/v1\0${member}`);

function fromSeed(member: string, seed: Uint8Array): Identity {
  const signer = ed25519Signer(seed);
  return { member, seed, publicKey: signer.publicKey, sign: signer.sign };
}

/** Creates a new identity (or seals a given seed, on restore), in `file` (which must not exist). */
export async function createIdentity(file: string, member: string, protector: ShareProtector, existingSeed?: Uint8Array): Promise<Identity> {
  const seed = existingSeed ? Uint8Array.from(existingSeed) : newEd25519Seed();
  const identity = fromSeed(member, seed);
  const wrapped = await protector.wrapKey(seed, aadFor(member));
  const body: IdentityFile = {
    version: 1,
    member,
    publicKey: Buffer.from(identity.publicKey).toString('hex'),
    provider: wrapped.provider,
    kekRef: wrapped.kekRef,
    wrapped: Buffer.from(wrapped.wrapped).toString('base64'),
  };
  await createAtomically(file, JSON.stringify(body, null, 2) + '\n');
  return identity;
}

/** Re-wraps an identity's seed under another protector (provider key rotation); atomic. */
export async function resealIdentity(file: string, member: string, from: ShareProtector, to: ShareProtector): Promise<void> {
  const body = JSON.parse(await readFile(file, 'utf8')) as IdentityFile;
  if (body.provider === to.name && body.kekRef === to.currentKekRef()) return;
  const identity = await loadIdentity(file, member, from);
  const wrapped = await to.wrapKey(identity.seed, aadFor(member));
  identity.seed.fill(0);
  const next: IdentityFile = { ...body, provider: wrapped.provider, kekRef: wrapped.kekRef, wrapped: Buffer.from(wrapped.wrapped).toString('base64') };
  await writeAtomically(file, JSON.stringify(next, null, 2) + '\n');
}

export async function loadIdentity(file: string, member: string, protector: ShareProtector): Promise<Identity> {
  const body = JSON.parse(await readFile(file, 'utf8')) as IdentityFile;
  if (body.version !== 1 || body.member !== member) throw new Error(`${file} is not the identity of ${member}`);
  const seed = await protector.unwrapKey({ provider: body.provider as ShareProtector['name'], kekRef: body.kekRef, wrapped: Buffer.from(body.wrapped, 'base64') }, aadFor(member));
  const identity = fromSeed(member, seed);
  if (Buffer.from(identity.publicKey).toString('hex') !== body.publicKey) throw new Error(`${file}: the sealed seed does not match the recorded public key`);
  return identity;
}

/** The public key recorded in an identity file (no provider needed). */
export async function identityPublicKey(file: string): Promise<Uint8Array> {
  return Buffer.from((JSON.parse(await readFile(file, 'utf8')) as IdentityFile).publicKey, 'hex');
}

/** The Ed25519 identity as the providers' `IdentitySigner` (the key stays in this process). */
export class Ed25519IdentitySigner implements IdentitySigner {
  readonly algorithm = 'ed25519' as const;
  private readonly identity: Identity;
  constructor(identity: Identity) {
    this.identity = identity;
  }
  async publicKey(): Promise<Uint8Array> {
    return Uint8Array.from(this.identity.publicKey);
  }
  async sign(message: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(this.identity.sign(message));
  }
  async verify(message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return ed25519Verify(this.identity.publicKey, message, signature);
  }
}

/**
 * Checks ML-DSA-65 envelope signatures: required (and checked) for members whose manifest
 * entry pins an ML-DSA key, ignored for the others.
 */
export function manifestPqVerifier(manifest: ClusterManifest): (member: string, message: Uint8Array, signature: Uint8Array | undefined) => boolean {
  return (member, message, signature) => {
    const key = manifest.members.get(member as MemberId)?.mldsaKey;
    if (!key) return true;
    return !!signature && verifyMlDsa(key, message, signature);
  };
}
