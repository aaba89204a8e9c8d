/**
 * The nodes' transaction decoders (micro-eth-signer, @scure/btc-signer,
 * @solana/transaction-messages) against transactions built by the libraries wallets use (viem,
 * bitcoinjs-lib, @solana/web3.js): the digest the node would sign is the one the wallet library
 * computes itself, and the destinations and amounts it reports are the ones the wallet wrote.
 */
import { randomBytes } from 'node:crypto';
import * as ecc from '@bitcoinerlab/secp256k1';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { Keypair, PublicKey, SystemProgram, Transaction as SolanaTransaction, TransactionInstruction } from '@solana/web3.js';
import { initEccLib, networks, payments, Psbt } from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { keccak256, parseEther, serializeTransaction } from 'viem';
import { decodeTransaction, TransactionError } from '../../cluster/policy/chains.ts';
import { taprootOutputKey } from '../../protocol/schemes/index.ts';

initEccLib(ecc);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const BOB = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

describe('Ethereum (built by viem)', () => {
  const ctx = { scheme: 'ecdsa-secp256k1', signingKey: new Uint8Array(33), input: 0, bitcoinNetwork: 'mainnet' } as const;
  it('EIP-1559 and legacy EIP-155: the digest is viem\'s keccak256 of the unsigned transaction; chain id, destination and value as written', () => {
    const txs = [
      { tx: serializeTransaction({ type: 'eip1559', chainId: 1, nonce: 3, to: BOB, value: parseEther('1.5'), maxFeePerGas: 3n * 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n, gas: 21_000n }), chainId: 1, value: parseEther('1.5') },
      { tx: serializeTransaction({ type: 'legacy', chainId: 137, nonce: 1, to: BOB, value: 5n, gasPrice: 10n ** 9n, gas: 21_000n }), chainId: 137, value: 5n },
    ];
    for (const { tx, chainId, value } of txs) {
      const decoded = decodeTransaction('ethereum', Buffer.from(tx.slice(2), 'hex'), ctx);
      expect(`0x${hex(decoded.toSign)}`).toBe(keccak256(tx));
      expect(decoded.facts).toEqual({ chain: 'ethereum', chainId, transfers: [{ to: BOB.toLowerCase(), value }], opaque: [] });
    }
  });

  it('refuses a signed transaction and one with bytes after its end (what the node reads must be all it signs)', () => {
    const unsigned = { type: 'eip1559', chainId: 1, nonce: 0, to: BOB, value: 1n, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n, gas: 21_000n } as const;
    const signed = serializeTransaction(unsigned, { r: `0x${'11'.repeat(32)}`, s: `0x${'22'.repeat(32)}`, yParity: 0 });
    expect(() => decodeTransaction('ethereum', Buffer.from(signed.slice(2), 'hex'), ctx)).toThrow(/signed already/);
    const padded = Buffer.concat([Buffer.from(serializeTransaction(unsigned).slice(2), 'hex'), Buffer.from([0])]);
    expect(() => decodeTransaction('ethereum', padded, ctx)).toThrow(TransactionError);
  });
});

describe('Bitcoin PSBT (built and hashed by bitcoinjs-lib)', () => {
  const network = networks.testnet;
  const DEST = 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx';
  /** The sighash bitcoinjs computes for input 0: its signer callback sees it. */
  async function bitcoinjsSighash(psbt: Psbt, signer: { publicKey: Uint8Array; taproot: boolean }): Promise<Uint8Array> {
    let seen: Uint8Array | undefined;
    await psbt.signInputAsync(0, {
      publicKey: signer.publicKey,
      sign: async (hash) => ((seen = Uint8Array.from(hash)), new Uint8Array(64).fill(1)),
      signSchnorr: async (hash) => ((seen = Uint8Array.from(hash)), new Uint8Array(64).fill(1)),
    });
    return seen!;
  }

  it('P2WPKH with ECDSA: the BIP143 digest is bitcoinjs\'s; payments leave out the change back to the key', async () => {
    const priv = secp256k1.utils.randomSecretKey();
    const pub = secp256k1.getPublicKey(priv, true);
    const own = payments.p2wpkh({ pubkey: pub, network });
    const psbt = new Psbt({ network });
    psbt.addInput({ hash: hex(randomBytes(32)), index: 1, witnessUtxo: { script: own.output!, value: 90_000n } });
    psbt.addOutput({ address: DEST, value: 40_000n });
    psbt.addOutput({ address: own.address!, value: 49_000n }); // change
    const decoded = decodeTransaction('psbt', psbt.toBuffer(), { scheme: 'ecdsa-secp256k1', signingKey: pub, input: 0, bitcoinNetwork: 'testnet' });
    expect(hex(decoded.toSign)).toBe(hex(await bitcoinjsSighash(psbt, { publicKey: pub, taproot: false })));
    expect(decoded.facts).toEqual({ chain: 'bitcoin', network: 'testnet', transfers: [{ to: DEST, value: 40_000n }], opaque: [] });
  });

  it('Taproot key path: the BIP341 digest is bitcoinjs\'s; an input of another key is refused', async () => {
    const internal = schnorr.getPublicKey(schnorr.utils.randomSecretKey());
    const output = taprootOutputKey(internal);
    const p2tr = payments.p2tr({ internalPubkey: internal, network });
    expect(hex(p2tr.pubkey!)).toBe(hex(output));
    const psbt = new Psbt({ network });
    psbt.addInput({ hash: hex(randomBytes(32)), index: 0, witnessUtxo: { script: p2tr.output!, value: 50_000n }, tapInternalKey: internal });
    psbt.addOutput({ address: DEST, value: 45_000n });
    const decoded = decodeTransaction('psbt', psbt.toBuffer(), { scheme: 'schnorr-bip340', signingKey: output, input: 0, bitcoinNetwork: 'testnet' });
    expect(hex(decoded.toSign)).toBe(hex(await bitcoinjsSighash(psbt, { publicKey: Uint8Array.from([0x02, ...output]), taproot: true })));
    expect(() => decodeTransaction('psbt', psbt.toBuffer(), { scheme: 'schnorr-bip340', signingKey: internal, input: 0, bitcoinNetwork: 'testnet' })).toThrow(/not spendable by this key/);
    expect(() => decodeTransaction('psbt', psbt.toBuffer(), { scheme: 'schnorr-bip340', signingKey: output, input: 1, bitcoinNetwork: 'testnet' })).toThrow(/no input 1/);
  });
});

describe('Solana (built by @solana/web3.js)', () => {
  const payerKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
  const payer = new PublicKey(payerKey);
  const ctx = { scheme: 'eddsa-ed25519', signingKey: payerKey, input: 0, bitcoinNetwork: 'mainnet' } as const;
  const blockhash = Keypair.generate().publicKey.toBase58();

  it('a SOL transfer: the message is signed as it is, and the destination and lamports are the ones written', () => {
    const to = Keypair.generate().publicKey;
    const tx = new SolanaTransaction({ feePayer: payer, recentBlockhash: blockhash }).add(SystemProgram.transfer({ fromPubkey: payer, toPubkey: to, lamports: 1_500_000 }));
    const message = tx.serializeMessage();
    const decoded = decodeTransaction('solana', message, ctx);
    expect(hex(decoded.toSign)).toBe(hex(message));
    expect(decoded.facts).toEqual({ chain: 'solana', transfers: [{ to: to.toBase58(), value: 1_500_000n }], opaque: [] });
  });

  it('an instruction of another program is opaque; a message that does not name the key as a signer is refused', () => {
    const tx = new SolanaTransaction({ feePayer: payer, recentBlockhash: blockhash }).add(
      new TransactionInstruction({ programId: Keypair.generate().publicKey, keys: [{ pubkey: payer, isSigner: true, isWritable: true }], data: Buffer.from([1, 2, 3]) }),
    );
    expect(decodeTransaction('solana', tx.serializeMessage(), ctx).facts.opaque).toEqual([expect.stringMatching(/^instruction 0 calls program /)]);
    const other = Keypair.generate().publicKey;
    const foreign = new SolanaTransaction({ feePayer: other, recentBlockhash: blockhash }).add(SystemProgram.transfer({ fromPubkey: other, toPubkey: payer, lamports: 1 }));
    expect(() => decodeTransaction('solana', foreign.serializeMessage(), ctx)).toThrow(/does not name this key as a signer/);
  });

  it('refuses a transaction of the wrong scheme for its chain', () => {
    expect(() => decodeTransaction('solana', new Uint8Array(10), { ...ctx, scheme: 'ecdsa-secp256k1' })).toThrow(/cannot be signed with a ecdsa-secp256k1 key/);
  });
});
