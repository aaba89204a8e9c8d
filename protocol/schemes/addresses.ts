/**
 * The addresses wallets show for a key, computed from its public key alone:
 *
 *   Ethereum   EIP-55 checksummed keccak256(uncompressed key)[12..32]        (ecdsa-secp256k1)
 *   P2WPKH     bech32 of witness v0, HASH160(compressed key)                (ecdsa-secp256k1)
 *   P2TR       bech32m of witness v1, an x-only output key                  (schnorr-bip340)
 *   Solana     base58 of the 32-byte Ed25519 key                            (eddsa-ed25519)
 *
 * Bitcoin addresses and extended keys depend on the network: `bc`/`xpub` on mainnet, `tb`/`tpub`
 * on testnet and signet, `bcrt`/`tpub` on regtest.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { base58, bech32, bech32m } from '@scure/base';

export const BITCOIN_NETWORKS = ['mainnet', 'testnet', 'signet', 'regtest'] as const;
export type BitcoinNetwork = (typeof BITCOIN_NETWORKS)[number];

const HRP: Record<BitcoinNetwork, string> = { mainnet: 'bc', testnet: 'tb', signet: 'tb', regtest: 'bcrt' };

/** What a key's answer lists under `addresses`; each scheme fills in its own. */
export interface Addresses {
  readonly ethereum?: string;
  readonly p2wpkh?: string;
  readonly p2tr?: string;
  readonly solana?: string;
}

/** EIP-55 address of a secp256k1 key (33 compressed or 65 uncompressed bytes). */
export function ethereumAddress(publicKey: Uint8Array): string {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  const lower = Buffer.from(keccak_256(uncompressed.subarray(1)).subarray(12)).toString('hex');
  const checksum = Buffer.from(keccak_256(new TextEncoder().encode(lower))).toString('hex');
  let out = '0x';
  for (let i = 0; i < 40; i++) out += parseInt(checksum[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out;
}

function segwit(network: BitcoinNetwork, version: 0 | 1, program: Uint8Array): string {
  const words = [version, ...bech32.toWords(program)];
  return (version === 0 ? bech32 : bech32m).encode(HRP[network], words);
}

/** P2WPKH (BIP141/173) of a compressed secp256k1 key. */
export function p2wpkhAddress(publicKey: Uint8Array, network: BitcoinNetwork): string {
  if (publicKey.length !== 33) throw new RangeError('P2WPKH takes a 33-byte compressed key');
  return segwit(network, 0, ripemd160(sha256(publicKey)));
}

/** P2TR (BIP341/350) of a 32-byte x-only **output** key. */
export function p2trAddress(outputKey: Uint8Array, network: BitcoinNetwork): string {
  if (outputKey.length !== 32) throw new RangeError('P2TR takes a 32-byte x-only output key');
  return segwit(network, 1, outputKey);
}

/** scriptPubKey of a P2TR output: OP_1 OP_PUSHBYTES_32 <output key>. */
export function p2trScript(outputKey: Uint8Array): Uint8Array {
  return Uint8Array.from([0x51, 0x20, ...outputKey]);
}

/** A Solana account address: the Ed25519 key in base58. */
export function solanaAddress(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new RangeError('a Solana address is a 32-byte Ed25519 key');
  return base58.encode(publicKey);
}
