/**
 * What a signer's receipt signature covers, shared by the nodes that sign receipts and the
 * clients that check them: the receipt's bytes as relayed (canonical JSON, unparsed) after a
 * domain line. The key is the node's Ed25519 identity key, pinned in the cluster manifest.
 */
import { verify as edVerify } from 'node:crypto';
import { ed25519PublicKey } from '../protocol/curves/curve25519-keys.ts';
import { domainSeparated } from './domain-separated.ts';

export const RECEIPT_DOMAIN = 'mpc-signer/receipt/v1';

export const receiptSigningInput = (bytes: Uint8Array): Uint8Array => domainSeparated(RECEIPT_DOMAIN, bytes);

/** Whether `signature` is `nodeKey`'s (32-byte Ed25519) over the receipt bytes. */
export function receiptSignatureVerifies(bytes: Uint8Array, signature: Uint8Array, nodeKey: Uint8Array): boolean {
  return nodeKey.length === 32 && signature.length === 64 && edVerify(null, receiptSigningInput(bytes), ed25519PublicKey(nodeKey), signature);
}
