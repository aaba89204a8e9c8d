/**
 * Transactions a node reads itself before signing: it computes what it signs from the
 * transaction (never taking a digest on trust), and tells the policy where value goes. Each
 * chain is read by a maintained library written independently of the wallet libraries our tests
 * build transactions with (micro-eth-signer, @scure/btc-signer, @solana/transaction-messages),
 * so a test that passes is two implementations agreeing.
 *
 * What a decoder cannot account for (an unknown Solana program, a PSBT output script with no
 * address) is reported as `opaque`: a rule with limits for that chain refuses it, because it
 * cannot tell where the value goes.
 */
import { createHash } from 'node:crypto';
import { Address, NETWORK, OutScript, TEST_NETWORK, Transaction as BitcoinTransaction } from '@scure/btc-signer';
import { base58 } from '@scure/base';
import { getCompiledTransactionMessageDecoder } from '@solana/transaction-messages';
import { Transaction as EthereumTransaction } from 'micro-eth-signer';
import type { TransactionFormat } from '../control.ts';
import type { Scheme } from '../../protocol/schemes/index.ts';
import type { TransactionFacts } from './evaluate.ts';

export type BitcoinNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest';

export interface DecodeContext {
  readonly scheme: Scheme;
  /** The key the signature will verify under: SEC1 compressed (ECDSA), x-only (BIP340), or Ed25519. */
  readonly signingKey: Uint8Array;
  /** PSBT: the input to sign. */
  readonly input: number;
  /** PSBT: how output scripts are written as addresses (the policy rule's network). */
  readonly bitcoinNetwork: BitcoinNetwork;
}

export interface DecodedTransaction {
  /** What the scheme signs: a digest (Ethereum, PSBT) or the message itself (Solana). */
  readonly toSign: Uint8Array;
  readonly facts: TransactionFacts & { readonly opaque: readonly string[] };
}

export class TransactionError extends Error {
  override readonly name = 'TransactionError';
}

const SCHEMES_OF: Record<TransactionFormat, readonly Scheme[]> = {
  ethereum: ['ecdsa-secp256k1'],
  psbt: ['ecdsa-secp256k1', 'schnorr-bip340'],
  solana: ['eddsa-ed25519'],
};

export function decodeTransaction(format: TransactionFormat, bytes: Uint8Array, ctx: DecodeContext): DecodedTransaction {
  if (!SCHEMES_OF[format].includes(ctx.scheme)) throw new TransactionError(`a ${format} transaction cannot be signed with a ${ctx.scheme} key`);
  try {
    if (format === 'ethereum') return ethereum(bytes);
    if (format === 'psbt') return psbt(bytes, ctx);
    return solana(bytes, ctx);
  } catch (e) {
    if (e instanceof TransactionError) throw e;
    throw new TransactionError(`not a valid ${format} transaction: ${(e as Error).message}`);
  }
}

/**
 * An unsigned EIP-2718 transaction (typed, or legacy with EIP-155). It must re-encode to exactly
 * the bytes given, so what the policy read is what the digest covers: keccak256 of those bytes.
 */
function ethereum(bytes: Uint8Array): DecodedTransaction {
  const tx = EthereumTransaction.fromBytes(bytes);
  if (tx.isSigned) throw new TransactionError('the Ethereum transaction is signed already; send it unsigned');
  if (!Buffer.from(tx.toBytes({ includeSignature: false })).equals(Buffer.from(bytes))) throw new TransactionError('the Ethereum transaction is not in canonical encoding');
  const raw = tx.raw as { chainId?: bigint; to?: string; value: bigint };
  const chainId = raw.chainId === undefined ? undefined : Number(raw.chainId);
  const to = raw.to ? raw.to.toLowerCase() : 'contract-creation';
  return {
    toSign: (tx as unknown as { calcHash(includeSignature: boolean): Uint8Array }).calcHash(false),
    facts: { chain: 'ethereum', ...(chainId !== undefined ? { chainId } : {}), transfers: [{ to, value: raw.value }], opaque: [] },
  };
}

const hash160 = (b: Uint8Array) => createHash('ripemd160').update(createHash('sha256').update(b).digest()).digest();
const SIGHASH_DEFAULT = 0;
const SIGHASH_ALL = 1;

/**
 * One input of a PSBT, spent by this key: P2WPKH (BIP143 digest) for ECDSA, a Taproot key path
 * (BIP341 digest) for BIP340. Outputs back to the key's own script are change; the others are
 * where value goes.
 */
function psbt(bytes: Uint8Array, ctx: DecodeContext): DecodedTransaction {
  const tx = BitcoinTransaction.fromPSBT(bytes, { allowUnknownOutputs: true });
  if (ctx.input >= tx.inputsLength) throw new TransactionError(`the PSBT has ${tx.inputsLength} inputs; there is no input ${ctx.input}`);
  const prevouts = Array.from({ length: tx.inputsLength }, (_, i) => tx.getInput(i).witnessUtxo);
  const spent = prevouts[ctx.input];
  if (!spent) throw new TransactionError(`PSBT input ${ctx.input} has no witness UTXO: the amount it spends is unknown`);
  const ownScript =
    ctx.scheme === 'ecdsa-secp256k1' ? OutScript.encode({ type: 'wpkh', hash: hash160(ctx.signingKey) }) : OutScript.encode({ type: 'tr', pubkey: ctx.signingKey });
  if (!Buffer.from(spent.script).equals(Buffer.from(ownScript))) throw new TransactionError(`PSBT input ${ctx.input} is not spendable by this key (its script is not the key's ${ctx.scheme === 'ecdsa-secp256k1' ? 'P2WPKH' : 'P2TR'} output)`);
  const sighash = tx.getInput(ctx.input).sighashType ?? (ctx.scheme === 'ecdsa-secp256k1' ? SIGHASH_ALL : SIGHASH_DEFAULT);
  // Other sighash types let whoever completes the transaction change what this signature covers.
  if (sighash !== SIGHASH_ALL && !(ctx.scheme === 'schnorr-bip340' && sighash === SIGHASH_DEFAULT)) throw new TransactionError(`sighash type ${sighash} is not signed: only ALL (or DEFAULT for Taproot)`);
  let toSign: Uint8Array;
  if (ctx.scheme === 'ecdsa-secp256k1') {
    toSign = tx.preimageWitnessV0(ctx.input, OutScript.encode({ type: 'pkh', hash: hash160(ctx.signingKey) }), sighash, spent.amount);
  } else {
    if (prevouts.some((p) => !p)) throw new TransactionError('a Taproot signature covers every input: each PSBT input needs its witness UTXO');
    toSign = tx.preimageWitnessV1(ctx.input, prevouts.map((p) => p!.script), sighash, prevouts.map((p) => p!.amount));
  }
  const network = ctx.bitcoinNetwork === 'mainnet' ? NETWORK : ctx.bitcoinNetwork === 'regtest' ? { ...TEST_NETWORK, bech32: 'bcrt' } : TEST_NETWORK;
  const transfers: { to: string; value: bigint }[] = [];
  const opaque: string[] = [];
  for (let i = 0; i < tx.outputsLength; i++) {
    const out = tx.getOutput(i);
    if (!out.script || out.amount === undefined) throw new TransactionError(`PSBT output ${i} has no script or amount`);
    if (Buffer.from(out.script).equals(Buffer.from(ownScript))) continue;
    let to: string;
    try {
      to = Address(network).encode(OutScript.decode(out.script));
    } catch {
      to = `script:${Buffer.from(out.script).toString('hex')}`;
      if (out.amount > 0n) opaque.push(`output ${i} pays ${out.amount} sat to a script with no address`);
    }
    transfers.push({ to, value: out.amount });
  }
  return { toSign, facts: { chain: 'bitcoin', network: ctx.bitcoinNetwork, transfers, opaque } };
}

const SYSTEM_PROGRAM = '11111111111111111111111111111111';
const COMPUTE_BUDGET_PROGRAM = 'ComputeBudget111111111111111111111111111111';
/** System Program instruction index of Transfer { lamports: u64 }. */
const SYSTEM_TRANSFER = 2;

/**
 * A Solana transaction message (legacy or v0), which Ed25519 signs as it is. Transfers of SOL
 * from the key are read from System Program instructions; compute-budget instructions only set
 * fees; any other program, or accounts loaded from lookup tables, is opaque.
 */
function solana(bytes: Uint8Array, ctx: DecodeContext): DecodedTransaction {
  const [message, end] = getCompiledTransactionMessageDecoder().read(bytes, 0);
  // Ed25519 signs every byte: none may go unread.
  if (end !== bytes.length) throw new TransactionError(`the Solana message has ${bytes.length - end} bytes after its end`);
  if (message.version === 1) throw new TransactionError('version 1 Solana messages are not read yet; send a legacy or v0 message');
  const self = base58.encode(ctx.signingKey);
  const accounts = message.staticAccounts as readonly string[];
  const opaque: string[] = [];
  if ('addressTableLookups' in message && (message.addressTableLookups as unknown[] | undefined)?.length) opaque.push('accounts loaded from address lookup tables');
  if (!accounts.slice(0, message.header.numSignerAccounts).includes(self)) throw new TransactionError('the Solana message does not name this key as a signer');
  const transfers: { to: string; value: bigint }[] = [];
  for (const [i, ix] of message.instructions.entries()) {
    const program = accounts[ix.programAddressIndex];
    if (program === COMPUTE_BUDGET_PROGRAM) continue;
    const data = ix.data ?? new Uint8Array();
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (program === SYSTEM_PROGRAM && data.length === 12 && view.getUint32(0, true) === SYSTEM_TRANSFER) {
      const [from, to] = (ix.accountIndices ?? []).map((a: number) => accounts[a]);
      if (from === undefined || to === undefined) throw new TransactionError(`instruction ${i}: a transfer names accounts the message does not have`);
      if (from === self && to !== self) transfers.push({ to, value: view.getBigUint64(4, true) });
      continue;
    }
    opaque.push(`instruction ${i} calls program ${program}`);
  }
  return { toSign: Uint8Array.from(bytes), facts: { chain: 'solana', transfers, opaque } };
}
