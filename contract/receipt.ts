/**
 * What a signer's receipt signature covers, shared by the nodes that sign receipts and the
 * clients that check them: the receipt's bytes as relayed (canonical JSON, unparsed) after a
 * domain line. The key is the node's Ed25519 identity key, pinned in the cluster manifest.
 */
import { verify as edVerify } from 'node:crypto';
import { ed25519PublicKey } from '../protocol/curves/curve25519-keys.ts';

export const RECEIPT_DOMAIN = 'mpc-signer/receipt/v1';

const DOMAIN_LINE = new TextEncoder().encode(`${RECEIPT_DOMAIN}\n`);

export function receiptSigningInput(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(DOMAIN_LINE.length + bytes.length);
  out.set(DOMAIN_LINE);
  out.set(bytes, DOMAIN_LINE.length);
  return out;
}

/** Whether `signature` is `nodeKey`'s (32-byte Ed25519) over the receipt bytes. */
export function receiptSignatureVerifies(bytes: Uint8Array, signature: Uint8Array, nodeKey: Uint8Array): boolean {
  return nodeKey.length === 32 && signature.length === 64 && edVerify(null, receiptSigningInput(bytes), ed25519PublicKey(nodeKey), signature);
}
