/**
 * The files administrators and approvers pass around: a policy proposal (the canonical policy,
 * its hash, the signatures collected so far) and their own sealed Ed25519 keys, which are
 * created and stored the way node identities are (cluster/identity.ts: the seed wrapped by a
 * provider, bound to `admin:<name>` or `approver:<name>`).
 */
import { readFile } from 'node:fs/promises';
import { writeAtomically } from '../cluster/atomic-file.ts';
import { createIdentity, loadIdentity, type Identity } from '../cluster/identity.ts';
import { createProtector } from '../cluster/providers/index.ts';
import { parsePolicy, policyBytes, policyHash, type Policy } from '../cluster/policy/document.ts';
import { signPolicyHash } from '../cluster/policy/administrators.ts';

export type SignerRole = 'admin' | 'approver';

export interface ProposalFile {
  policy: Policy;
  /** Hex: what every administrator signs (over the canonical policy). */
  hash: string;
  signatures: { admin: string; signature: string }[];
}

/** The provider that seals a signer key: the JSON file given, or a local key file beside the key. */
async function protectorFor(keyFile: string, providerFile?: string) {
  const config = providerFile ? (JSON.parse(await readFile(providerFile, 'utf8')) as { type: string }) : { type: 'local', keyFile: `${keyFile}.kek` };
  return createProtector(config);
}

export async function createSignerKey(role: SignerRole, name: string, file: string, providerFile?: string): Promise<string> {
  const identity = await createIdentity(file, `${role}:${name}`, await protectorFor(file, providerFile));
  return Buffer.from(identity.publicKey).toString('hex');
}

export async function loadSignerKey(role: SignerRole, name: string, file: string, providerFile?: string): Promise<Identity> {
  return loadIdentity(file, `${role}:${name}`, await protectorFor(file, providerFile));
}

/** A proposal of the policy in `policyFile` with no signatures yet. */
export async function proposePolicyFile(policyFile: string, out: string): Promise<ProposalFile> {
  const policy = parsePolicy(JSON.parse(await readFile(policyFile, 'utf8')));
  const proposal: ProposalFile = { policy, hash: Buffer.from(policyHash(policyBytes(policy))).toString('hex'), signatures: [] };
  await writeAtomically(out, JSON.stringify(proposal, null, 2) + '\n');
  return proposal;
}

export async function readProposal(file: string): Promise<ProposalFile> {
  const proposal = JSON.parse(await readFile(file, 'utf8')) as ProposalFile;
  const hash = Buffer.from(policyHash(policyBytes(parsePolicy(proposal.policy)))).toString('hex');
  if (hash !== proposal.hash) throw new Error(`${file}: the policy in it does not hash to the hash it records (edited after signatures were made?)`);
  return proposal;
}

/** Adds `name`'s signature to the proposal (replacing an earlier one of the same administrator). */
export async function signProposal(file: string, name: string, identity: Identity): Promise<ProposalFile> {
  const proposal = await readProposal(file);
  const signature = Buffer.from(signPolicyHash(identity.seed, Buffer.from(proposal.hash, 'hex'))).toString('hex');
  const next = { ...proposal, signatures: [...proposal.signatures.filter((s) => s.admin !== name), { admin: name, signature }] };
  await writeAtomically(file, JSON.stringify(next, null, 2) + '\n');
  return next;
}
