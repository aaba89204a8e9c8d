/**
 * `npm start` until the network lands: runs a dealerless DKG and a threshold signature
 * for each FROST scheme with every party in this process, then checks each signature
 * with an independent verifier (OpenSSL for Ed25519, noble's BIP340 verifier).
 *
 *   npm start -- --threshold 3 --nodes 5
 */
import { createPublicKey, verify } from 'node:crypto';
import { parseArgs } from 'node:util';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { frostKeys, partyRange, runFrostSignCoordinated } from '../protocol/frost/local.ts';
import type { FrostScheme } from '../protocol/frost/suites.ts';

const { values } = parseArgs({ options: { threshold: { type: 'string', default: '2' }, nodes: { type: 'string', default: '3' } } });
const t = Number(values.threshold);
const n = Number(values.nodes);
const message = new TextEncoder().encode('hello from a threshold of signers');

const verifiers: Record<'eddsa-ed25519' | 'schnorr-bip340', (sig: Uint8Array, pk: Uint8Array) => boolean> = {
  'eddsa-ed25519': (sig, pk) =>
    verify(null, message, createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]), format: 'der', type: 'spki' }), sig),
  'schnorr-bip340': (sig, pk) => schnorr.verify(sig, message, pk),
};

for (const scheme of Object.keys(verifiers) as (FrostScheme & keyof typeof verifiers)[]) {
  const keys = frostKeys(scheme, t, n);
  const signers = partyRange(n).slice(n - t); // any t will do: take the last ones
  // The first signer aggregates (RFC 9591 coordinator model); the others only send shares.
  const { signature: out, aborts } = runFrostSignCoordinated(keys, signers, message);
  const first = aborts.values().next().value;
  if (first) throw first;
  if (!out) throw new Error('no signature');
  const ok = verifiers[scheme](out.signature, out.publicKey);
  console.log(`${scheme}  ${t}-of-${n}  signers ${signers.join(',')}`);
  console.log(`  public key ${bytesToHex(out.publicKey)}`);
  console.log(`  chain code ${bytesToHex(keys.get(signers[0]!)!.chainCode!)} (agreed in the DKG)`);
  console.log(`  signature  ${bytesToHex(out.signature)}`);
  console.log(`  independent verifier: ${ok ? 'valid' : 'INVALID'}`);
  if (!ok) process.exitCode = 1;
}
