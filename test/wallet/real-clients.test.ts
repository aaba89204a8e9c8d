/**
 * What wallets see, checked by the libraries wallets use (devDependencies only), against a local
 * cluster of real processes driven through the typed client:
 *
 * - viem recovers the key's address from an EIP-1559 transaction and from a personal message
 *   (EIP-191) signed by the cluster, also for a derived child;
 * - bitcoinjs-lib validates and finalises PSBTs: a key-path spend of the BIP86 output key, a
 *   key-path spend of an output that commits to a script tree, and a P2WPKH ECDSA spend;
 * - @solana/web3.js `verifySignatures()` accepts a transfer signed by the cluster;
 *
 * and the addresses those libraries compute are the ones our API reports.
 */
import { createHash } from 'node:crypto';
import * as ecc from '@bitcoinerlab/secp256k1';
import { Keypair, PublicKey, SystemProgram, Transaction } from '@solana/web3.js';
import { initEccLib, networks, payments, Psbt } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoverMessageAddress, recoverTransactionAddress, serializeTransaction, type TransactionSerializableEIP1559 } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import type { Key, MpcClient } from 'mpc-signer/client';
import { ProcessCluster } from '../../simulations/process-cluster.ts';

initEccLib(ecc);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

let cluster: ProcessCluster;
let api: MpcClient;
beforeAll(async () => {
  cluster = await ProcessCluster.create(3);
  api = cluster.client;
}, 120_000);
afterAll(() => cluster?.close());

describe('Ethereum (viem)', () => {
  let key: Key;
  beforeAll(async () => {
    key = await api.createKey({ scheme: 'ecdsa-secp256k1', label: 'eth' });
  }, 60_000);

  const tx: TransactionSerializableEIP1559 = {
    type: 'eip1559',
    chainId: 1,
    nonce: 7,
    to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    value: 10n ** 16n,
    gas: 21_000n,
    maxFeePerGas: 30_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
  };

  /** Signs the transaction (the nodes decode and hash it) and returns what viem recovers. */
  async function signTransaction(derivationPath?: string): Promise<string> {
    const unsigned = serializeTransaction(tx);
    const sig = await api.sign(key.id, { message: unsigned.slice(2), transaction: 'ethereum', ...(derivationPath ? { derivationPath } : {}) });
    const signed = serializeTransaction(tx, { r: `0x${sig.r!}`, s: `0x${sig.s!}`, yParity: sig.recoveryId! });
    return recoverTransactionAddress({ serializedTransaction: signed as never });
  }

  it('the address viem computes from the key is the one the API reports; viem recovers it from an EIP-1559 transaction', async () => {
    const uncompressed = `0x${hex(secpUncompressed(bytes(key.publicKey)))}` as const;
    expect(publicKeyToAddress(uncompressed)).toBe(key.addresses.ethereum);
    expect(await signTransaction()).toBe(key.addresses.ethereum);
  });

  it('a personal message (EIP-191, hashed by the nodes) recovers to the address', async () => {
    const message = 'Sign in to example.org\nnonce: 42';
    const sig = await api.sign(key.id, { message: Buffer.from(message).toString('hex'), hash: 'eip191' });
    const signature = `0x${sig.r}${sig.s}${(27 + sig.recoveryId!).toString(16)}` as const;
    expect(await recoverMessageAddress({ message, signature })).toBe(key.addresses.ethereum);
  });

  it('a derived child: the API reports its address, and a transaction signed under it recovers to it', async () => {
    const child = await api.getChild(key.id, 'm/0/3');
    expect(child.addresses.ethereum).not.toBe(key.addresses.ethereum);
    expect(publicKeyToAddress(`0x${hex(secpUncompressed(bytes(child.publicKey)))}`)).toBe(child.addresses.ethereum);
    expect(await signTransaction('m/0/3')).toBe(child.addresses.ethereum);
  });
});

describe('Bitcoin (bitcoinjs-lib)', () => {
  const network = networks.testnet;
  /** A PSBT spending one output of `script` (value 50 000 sat) to a fixed address. */
  function psbtSpending(script: Uint8Array, extra: Record<string, unknown> = {}): Psbt {
    const psbt = new Psbt({ network });
    psbt.addInput({ hash: createHash('sha256').update(script).digest('hex'), index: 0, witnessUtxo: { script, value: 50_000n }, ...extra });
    psbt.addOutput({ address: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', value: 40_000n });
    return psbt;
  }
  const schnorrValid = (pubkey: Uint8Array, hash: Uint8Array, sig: Uint8Array) => ecc.verifySchnorr(hash, pubkey, sig);
  const ecdsaValid = (pubkey: Uint8Array, hash: Uint8Array, sig: Uint8Array) => ecc.verify(hash, pubkey, sig);

  it('BIP86 key path: bitcoinjs derives the same P2TR address from the internal key, and validates the cluster\'s signature', async () => {
    const key = await api.createKey({ scheme: 'schnorr-bip340' });
    const view = await api.getKey(key.id, { network: 'testnet' });
    const p2tr = payments.p2tr({ internalPubkey: bytes(view.taproot!.internalKey!), network });
    expect(p2tr.address).toBe(view.addresses.p2tr);
    expect(hex(p2tr.pubkey!)).toBe(view.taproot!.outputKey);
    const psbt = psbtSpending(p2tr.output!, { tapInternalKey: bytes(view.taproot!.internalKey!) });
    await psbt.signInputAsync(0, {
      publicKey: Uint8Array.from([0x02, ...p2tr.pubkey!]),
      sign: () => Promise.reject(new Error('not ECDSA')),
      signSchnorr: async (hash) => bytes((await api.sign(key.id, { message: hex(hash), taproot: {} })).signature),
    });
    expect(psbt.validateSignaturesOfInput(0, schnorrValid)).toBe(true);
    psbt.finalizeAllInputs();
    expect(psbt.extractTransaction().ins[0]!.witness).toHaveLength(1);
  });

  it('key path of an output with a script tree (BIP341 merkle root), and of a derived child', async () => {
    const key = await api.createKey({ scheme: 'schnorr-bip340' });
    const child = await api.getChild(key.id, 'm/0/9', { network: 'testnet' });
    const leaf = { output: Uint8Array.from([0x20, ...bytes(child.publicKey), 0xac]) }; // <key> OP_CHECKSIG
    const p2tr = payments.p2tr({ internalPubkey: bytes(child.taproot!.internalKey!), scriptTree: leaf, network });
    // Without a tree the child's own BIP86 address is what the API reports.
    expect(payments.p2tr({ internalPubkey: bytes(child.taproot!.internalKey!), network }).address).toBe(child.addresses.p2tr);
    const psbt = psbtSpending(p2tr.output!, { tapInternalKey: bytes(child.taproot!.internalKey!), tapMerkleRoot: p2tr.hash! });
    await psbt.signInputAsync(0, {
      publicKey: Uint8Array.from([0x02, ...p2tr.pubkey!]),
      sign: () => Promise.reject(new Error('not ECDSA')),
      signSchnorr: async (hash) => {
        const sig = await api.sign(key.id, { message: hex(hash), derivationPath: 'm/0/9', taproot: { merkleRoot: hex(p2tr.hash!) } });
        expect(sig.publicKey).toBe(hex(p2tr.pubkey!));
        return bytes(sig.signature);
      },
    });
    expect(psbt.validateSignaturesOfInput(0, schnorrValid)).toBe(true);
    psbt.finalizeAllInputs();
  });

  it('P2WPKH with ECDSA: the address matches, and bitcoinjs validates the low-S signature it gets', async () => {
    const key = await api.createKey({ scheme: 'ecdsa-secp256k1' });
    const view = await api.getKey(key.id, { network: 'testnet' });
    const p2wpkh = payments.p2wpkh({ pubkey: bytes(view.publicKey), network });
    expect(p2wpkh.address).toBe(view.addresses.p2wpkh);
    const psbt = psbtSpending(p2wpkh.output!);
    await psbt.signInputAsync(0, {
      publicKey: bytes(view.publicKey),
      sign: async (hash) => bytes((await api.sign(key.id, { message: hex(hash) })).signature),
    });
    expect(psbt.validateSignaturesOfInput(0, ecdsaValid)).toBe(true);
    psbt.finalizeAllInputs();
    // The witness carries the DER signature bitcoinjs made from ours: the strict DER the API also gives.
    const witnessSig = psbt.extractTransaction().ins[0]!.witness[0]!;
    expect(witnessSig.at(-1)).toBe(0x01); // SIGHASH_ALL
  });

  it('the PSBT itself (transaction: psbt): each node computes the sighash from it; bitcoinjs validates the signatures for P2WPKH and a BIP86 key path', async () => {
    const ec = await api.getKey((await api.createKey({ scheme: 'ecdsa-secp256k1' })).id, { network: 'testnet' });
    const p2wpkh = payments.p2wpkh({ pubkey: bytes(ec.publicKey), network });
    const segwit = psbtSpending(p2wpkh.output!);
    const ecSig = await api.sign(ec.id, { message: hex(segwit.toBuffer()), transaction: 'psbt' });
    await segwit.signInputAsync(0, { publicKey: bytes(ec.publicKey), sign: async (hash) => (expect(hex(hash)).toBe(ecSig.digest), bytes(ecSig.signature)) });
    expect(segwit.validateSignaturesOfInput(0, ecdsaValid)).toBe(true);

    const tr = await api.getKey((await api.createKey({ scheme: 'schnorr-bip340' })).id, { network: 'testnet' });
    const p2tr = payments.p2tr({ internalPubkey: bytes(tr.taproot!.internalKey!), network });
    const taproot = psbtSpending(p2tr.output!, { tapInternalKey: bytes(tr.taproot!.internalKey!) });
    const trSig = await api.sign(tr.id, { message: hex(taproot.toBuffer()), transaction: 'psbt', taproot: {} });
    expect(trSig.publicKey).toBe(tr.taproot!.outputKey);
    await taproot.signInputAsync(0, {
      publicKey: Uint8Array.from([0x02, ...p2tr.pubkey!]),
      sign: () => Promise.reject(new Error('not ECDSA')),
      signSchnorr: async (hash) => (expect(hex(hash)).toBe(trSig.digest), bytes(trSig.signature)),
    });
    expect(taproot.validateSignaturesOfInput(0, schnorrValid)).toBe(true);
    taproot.finalizeAllInputs();
    // An input the key cannot spend is refused before any node signs.
    await expect(api.sign(ec.id, { message: hex(taproot.toBuffer()), transaction: 'psbt' })).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
  });
});

describe('Solana (@solana/web3.js)', () => {
  it('the address is the key in base58, and verifySignatures() accepts a transfer signed by the cluster', async () => {
    const key = await api.createKey({ scheme: 'eddsa-ed25519' });
    const payer = new PublicKey(bytes(key.publicKey));
    expect(payer.toBase58()).toBe(key.addresses.solana);
    const tx = new Transaction({ feePayer: payer, recentBlockhash: Keypair.generate().publicKey.toBase58() }).add(
      SystemProgram.transfer({ fromPubkey: payer, toPubkey: Keypair.generate().publicKey, lamports: 1_000_000 }),
    );
    const sig = await api.sign(key.id, { message: hex(tx.serializeMessage()) });
    tx.addSignature(payer, Buffer.from(sig.signature, 'hex'));
    expect(tx.verifySignatures()).toBe(true);
    // A signature over another message is refused by the same check.
    const other = await api.sign(key.id, { message: hex(Buffer.from('not this transaction')) });
    tx.addSignature(payer, Buffer.from(other.signature, 'hex'));
    expect(tx.verifySignatures()).toBe(false);
    // The same message as a transaction the nodes read (transaction: solana) signs the same bytes.
    const read = await api.sign(key.id, { message: hex(tx.serializeMessage()), transaction: 'solana' });
    tx.addSignature(payer, Buffer.from(read.signature, 'hex'));
    expect(tx.verifySignatures()).toBe(true);
  });
});

function secpUncompressed(compressed: Uint8Array): Uint8Array {
  return ecc.pointCompress(compressed, false);
}
