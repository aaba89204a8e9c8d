/**
 * What a sign request makes the key sign, computed the same way by every node (which then
 * signs it) and by the coordinator (which checks the signature it assembled): the message as it
 * is, the digest of a preimage, or the digest a transaction's own rules give (chains.ts).
 */
import type { SignRequest } from '../control.ts';
import { messageToSign } from '../../protocol/schemes/index.ts';
import { decodeTransaction, TransactionError, type BitcoinNetwork, type DecodedTransaction } from './chains.ts';

export type SignedContent = { readonly bytes: Uint8Array; readonly transaction?: DecodedTransaction['facts'] } | { readonly problem: string };

type ContentFields = Pick<SignRequest, 'scheme' | 'message' | 'hash' | 'transaction' | 'input' | 'expectedDigest'>;

export function signedContent(request: ContentFields, signingKey: Uint8Array, bitcoinNetwork: BitcoinNetwork): SignedContent {
  if (!request.transaction) {
    if (request.expectedDigest.length) return { problem: 'an expected digest goes with a transaction' };
    return messageToSign(request.scheme, request.message, request.hash || undefined);
  }
  if (request.hash) return { problem: 'a transaction is hashed by its own rules; it takes no hash option' };
  if (request.transaction === 'solana' && request.expectedDigest.length) return { problem: 'a Solana message is signed as it is; there is no digest to expect' };
  let decoded: DecodedTransaction;
  try {
    decoded = decodeTransaction(request.transaction, request.message, { scheme: request.scheme, signingKey, input: request.input, bitcoinNetwork });
  } catch (e) {
    if (e instanceof TransactionError) return { problem: e.message };
    throw e;
  }
  if (request.expectedDigest.length && !Buffer.from(request.expectedDigest).equals(Buffer.from(decoded.toSign))) {
    return { problem: `the digest given (${Buffer.from(request.expectedDigest).toString('hex')}) is not the transaction's (${Buffer.from(decoded.toSign).toString('hex')})` };
  }
  return { bytes: decoded.toSign, transaction: decoded.facts };
}
