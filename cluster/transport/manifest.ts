/**
 * The cluster manifest: every member's id, pinned Ed25519 identity key and address. A peer is
 * part of the cluster exactly when its key is in here; nothing else is trusted.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ed25519Verify } from '../../protocol/curves/ed25519-signatures.ts';
import type { MemberId } from './types.ts';

const memberSchema = z.strictObject({
  id: z.string().regex(/^(coordinator|node-[1-9][0-9]{0,4})$/, 'expected "coordinator" or "node-<n>"'),
  /** Hex Ed25519 public key (32 bytes). */
  identityKey: z.string().regex(/^[0-9a-f]{64}$/, 'expected 32 bytes of lowercase hex'),
  /** Hex ML-DSA-65 public key (1952 bytes): envelopes from this member must also carry an ML-DSA-65 signature. */
  mldsaKey: z.string().regex(/^[0-9a-f]{3904}$/, 'expected 1952 bytes of lowercase hex').optional(),
  /** host:port of the member's libp2p listener. */
  address: z.string().regex(/^[a-zA-Z0-9.-]+:\d{1,5}$/, 'expected host:port'),
});

/** Policy administrators: `threshold` of them must sign every policy version the nodes accept. */
const administratorsSchema = z.strictObject({
  threshold: z.number().int().min(1).max(64),
  members: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'expected a lowercase name'),
        identityKey: z.string().regex(/^[0-9a-f]{64}$/, 'expected 32 bytes of lowercase hex'),
        /** With an ML-DSA-65 key, this administrator's signatures must carry an ML-DSA-65 signature too. */
        mldsaKey: z.string().regex(/^[0-9a-f]{3904}$/, 'expected 1952 bytes of lowercase hex').optional(),
      }),
    )
    .min(1)
    .max(64),
});

const manifestSchema = z.strictObject({
  version: z.literal(1),
  members: z.array(memberSchema).min(2),
  administrators: administratorsSchema.optional(),
});

export interface Administrator {
  readonly id: string;
  readonly identityKey: Uint8Array;
  readonly mldsaKey?: Uint8Array;
}

/** Who may change the signing policy: any `threshold` of `members` together. */
export interface Administrators {
  readonly threshold: number;
  readonly members: ReadonlyMap<string, Administrator>;
}

export interface ManifestMember {
  readonly id: MemberId;
  readonly identityKey: Uint8Array;
  readonly mldsaKey?: Uint8Array;
  readonly host: string;
  readonly port: number;
}

export interface ClusterManifest {
  readonly members: ReadonlyMap<MemberId, ManifestMember>;
  /** Absent: no policy can be applied, and nodes sign what the coordinator asks. */
  readonly administrators?: Administrators;
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

export function parseManifest(json: unknown): ClusterManifest {
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ManifestError(`manifest field \`${issue.path.join('.')}\`: ${issue.message}`);
  }
  const members = new Map<MemberId, ManifestMember>();
  const keys = new Set<string>();
  for (const m of parsed.data.members) {
    if (members.has(m.id as MemberId)) throw new ManifestError(`manifest lists ${m.id} twice`);
    if (keys.has(m.identityKey)) throw new ManifestError(`manifest gives ${m.id} a key another member already has`);
    keys.add(m.identityKey);
    const [host, port] = m.address.split(':') as [string, string];
    members.set(m.id as MemberId, {
      id: m.id as MemberId,
      identityKey: Buffer.from(m.identityKey, 'hex'),
      ...(m.mldsaKey ? { mldsaKey: Buffer.from(m.mldsaKey, 'hex') } : {}),
      host,
      port: Number(port),
    });
  }
  if (!members.has('coordinator' as MemberId)) throw new ManifestError('manifest has no coordinator');
  const admins = parsed.data.administrators;
  if (!admins) return { members };
  const administrators = new Map<string, Administrator>();
  for (const a of admins.members) {
    if (administrators.has(a.id)) throw new ManifestError(`manifest lists administrator ${a.id} twice`);
    if (keys.has(a.identityKey)) throw new ManifestError(`administrator ${a.id} has a key another member or administrator already has`);
    keys.add(a.identityKey);
    administrators.set(a.id, { id: a.id, identityKey: Buffer.from(a.identityKey, 'hex'), ...(a.mldsaKey ? { mldsaKey: Buffer.from(a.mldsaKey, 'hex') } : {}) });
  }
  if (admins.threshold > administrators.size) throw new ManifestError(`manifest needs ${admins.threshold} administrators to sign a policy but lists ${administrators.size}`);
  return { members, administrators: { threshold: admins.threshold, members: administrators } };
}

export async function loadManifest(file: string): Promise<ClusterManifest> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ManifestError(`cannot read manifest ${file}: ${(e as Error).message}`);
  }
  return parseManifest(json);
}

export function manifestJson(
  members: readonly { id: string; identityKey: Uint8Array; mldsaKey?: Uint8Array; address: string }[],
  administrators?: { threshold: number; members: readonly { id: string; identityKey: Uint8Array; mldsaKey?: Uint8Array }[] },
): string {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  return (
    JSON.stringify(
      {
        version: 1,
        members: members.map((m) => ({
          id: m.id,
          identityKey: hex(m.identityKey),
          ...(m.mldsaKey ? { mldsaKey: hex(m.mldsaKey) } : {}),
          address: m.address,
        })),
        ...(administrators
          ? { administrators: { threshold: administrators.threshold, members: administrators.members.map((a) => ({ id: a.id, identityKey: hex(a.identityKey), ...(a.mldsaKey ? { mldsaKey: hex(a.mldsaKey) } : {}) })) } }
          : {}),
      },
      null,
      2,
    ) + '\n'
  );
}

export const memberId = (s: string): MemberId => s as MemberId;
export const nodeMember = (n: number): MemberId => `node-${n}` as MemberId;
export const COORDINATOR = 'coordinator' as MemberId;

/** The node number of `node-<n>`, or undefined for the coordinator. */
export function nodeNumber(id: MemberId): number | undefined {
  const m = /^node-(\d+)$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

/** Verifies members' Ed25519 signatures with the keys pinned in the manifest. */
export function manifestVerifier(manifest: ClusterManifest): (member: string, message: Uint8Array, signature: Uint8Array) => boolean {
  const keys = new Map<string, Uint8Array>();
  for (const m of manifest.members.values()) keys.set(m.id, Uint8Array.from(m.identityKey));
  return (member, message, signature) => {
    const key = keys.get(member as MemberId);
    return !!key && ed25519Verify(key, message, signature);
  };
}
