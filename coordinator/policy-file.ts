/**
 * The coordinator's copy of the policy in force (`<dataDir>/policy.json`), written atomically.
 * It is a convenience, not an authority: every node keeps its own copy, checked against the
 * administrators' signatures, and refuses requests that name another version.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../cluster/atomic-file.ts';
import type { PolicyStore, SignedPolicy } from './engine/policy.ts';

interface PolicyFile {
  version: 1;
  document: string;
  signatures: { admin: string; signature: string; mldsaSignature?: string }[];
}

export function policyFile(dataDir: string): PolicyStore {
  const file = join(dataDir, 'policy.json');
  return {
    async load(): Promise<SignedPolicy | undefined> {
      let body: PolicyFile;
      try {
        body = JSON.parse(await readFile(file, 'utf8')) as PolicyFile;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new Error(`cannot read ${file}: ${(e as Error).message}`);
      }
      return {
        document: Buffer.from(body.document, 'base64'),
        signatures: body.signatures.map((s) => ({ admin: s.admin, signature: Buffer.from(s.signature, 'hex'), ...(s.mldsaSignature ? { mldsaSignature: Buffer.from(s.mldsaSignature, 'hex') } : {}) })),
      };
    },
    async save(policy: SignedPolicy): Promise<void> {
      const body: PolicyFile = {
        version: 1,
        document: Buffer.from(policy.document).toString('base64'),
        signatures: policy.signatures.map((s) => ({ admin: s.admin, signature: Buffer.from(s.signature).toString('hex'), ...(s.mldsaSignature ? { mldsaSignature: Buffer.from(s.mldsaSignature).toString('hex') } : {}) })),
      };
      await writeAtomically(file, JSON.stringify(body, null, 2) + '\n');
    },
  };
}
