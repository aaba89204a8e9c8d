/**
 * A receipt as a node signs it (policy gate: its identity key over the domain line and the
 * canonical bytes) is what a client's `receiptVerifies` accepts, and nothing else is.
 */
import { describe, expect, it } from 'vitest';
import { receiptVerifies } from 'mpc-signer/client';
import { receiptBytes, type Receipt } from '../../cluster/policy/receipt.ts';
import { receiptSigningInput } from '../../contract/receipt.ts';
import { newEd25519Seed } from '../../protocol/curves/curve25519-keys.ts';
import { ed25519Signer } from '../../protocol/curves/ed25519-signatures.ts';

const decision: Receipt = {
  node: 2,
  keyId: 'k-1',
  session: 'ab'.repeat(16),
  requestId: '',
  signed: 'cd'.repeat(32),
  decision: 'allowed',
  rule: 'treasury',
  policyVersion: 3,
  policyHash: 'ef'.repeat(32),
  at: '2026-12-02T12:00:00.000Z',
};

function signedBy(node: ReturnType<typeof ed25519Signer>, r: Receipt) {
  const bytes = receiptBytes(r);
  return { node: 2, receipt: Buffer.from(bytes).toString('utf8'), signature: Buffer.from(node.sign(receiptSigningInput(bytes))).toString('hex') };
}

describe('signer receipts', () => {
  const node = ed25519Signer(newEd25519Seed());
  const other = ed25519Signer(newEd25519Seed());

  it('verify under the signing node key', () => {
    expect(receiptVerifies(signedBy(node, decision), node.publicKey)).toBe(true);
  });

  it('do not verify under another node key, edited, or without the domain line', () => {
    const relayed = signedBy(node, decision);
    expect(receiptVerifies(relayed, other.publicKey)).toBe(false);
    expect(receiptVerifies({ ...relayed, receipt: relayed.receipt.replace('"allowed"', '"refused"') }, node.publicKey)).toBe(false);
    const bare = Buffer.from(node.sign(receiptBytes(decision))).toString('hex');
    expect(receiptVerifies({ ...relayed, signature: bare }, node.publicKey)).toBe(false);
    expect(receiptVerifies(relayed, node.publicKey.subarray(0, 31))).toBe(false);
  });
});
