/**
 * BIP86 and BIP341 test vectors (../shared/vectors/bip/) through our own derivation, Taproot
 * tweak, signing-key plan and address code: what a `schnorr-bip340` key reports and signs under
 * must be what every BIP86 wallet computes from the same xpub.
 */
import { readFileSync } from 'node:fs';
import { HDKey } from '@scure/bip32';
import { describe, expect, it } from 'vitest';
import { derive } from '../../protocol/derive.ts';
import { p2trAddress, p2trScript } from '../../protocol/schemes/addresses.ts';
import { planSigningKey, schemeOf, tapTweak, taprootOutputKey } from '../../protocol/schemes/index.ts';

const read = (name: string) => JSON.parse(readFileSync(new URL(`../../../shared/vectors/bip/${name}`, import.meta.url), 'utf8'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

interface Bip86 {
  account: { xpub: string };
  addresses: { relative: string; internal_key: string; output_key: string; scriptPubKey: string; address: string }[];
}
interface Bip341 {
  scriptPubKey: { given: { internalPubkey: string }; intermediary: { merkleRoot: string | null; tweak: string; tweakedPubkey: string }; expected: { scriptPubKey: string; bip350Address: string } }[];
}

describe('BIP86 vectors: account xpub → internal key, output key, scriptPubKey, address', () => {
  const v = read('bip86-test-vectors.json') as Bip86;
  const account = HDKey.fromExtendedKey(v.account.xpub);
  const bip340 = schemeOf('schnorr-bip340');
  it.each(v.addresses.map((a) => [a.relative, a] as const))('%s', (_relative, a) => {
    const path = a.relative.split('/').map(Number);
    // Our BIP32 CKDpub from the account key, then the BIP86 tweak, as a threshold key of that xpub would sign.
    const child = derive('secp256k1', account.publicKey!, account.chainCode!, path);
    expect(hex(child.publicKey.subarray(1))).toBe(a.internal_key);
    const plan = planSigningKey(bip340, { groupKey: account.publicKey!, chainCode: account.chainCode! }, path, {});
    expect(hex(plan.publicKey)).toBe(a.output_key);
    expect(hex(bip340.userKey(plan.childKey))).toBe(a.internal_key);
    expect(hex(taprootOutputKey(bytes(a.internal_key)))).toBe(a.output_key);
    expect(hex(p2trScript(plan.publicKey))).toBe(a.scriptPubKey);
    // The address a key reports is its BIP86 output's, from the internal key alone.
    expect(bip340.addresses(bytes(a.internal_key), 'mainnet').p2tr).toBe(a.address);
    // Plain BIP340 (no Taproot option) signs under the internal key itself.
    expect(hex(planSigningKey(bip340, { groupKey: account.publicKey!, chainCode: account.chainCode! }, path).publicKey)).toBe(a.internal_key);
  });
});

describe('BIP341 wallet vectors: TapTweak with and without a script tree, output key, address', () => {
  const v = read('bip341-wallet-test-vectors.json') as Bip341;
  it.each(v.scriptPubKey.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const spend = c.intermediary.merkleRoot ? { merkleRoot: bytes(c.intermediary.merkleRoot) } : {};
    const internal = bytes(c.given.internalPubkey);
    expect(hex(tapTweak(internal, spend))).toBe(c.intermediary.tweak);
    const output = taprootOutputKey(internal, spend);
    expect(hex(output)).toBe(c.intermediary.tweakedPubkey);
    expect(hex(p2trScript(output))).toBe(c.expected.scriptPubKey);
    expect(p2trAddress(output, 'mainnet')).toBe(c.expected.bip350Address);
  });

  it('refuses a merkle root that is not 32 bytes, and a Taproot spend on a scheme without Taproot', () => {
    expect(() => tapTweak(new Uint8Array(32).fill(1), { merkleRoot: new Uint8Array(31) })).toThrow(/32 bytes/);
    const ecdsa = schemeOf('ecdsa-secp256k1');
    const key = HDKey.fromExtendedKey((read('bip86-test-vectors.json') as Bip86).account.xpub);
    expect(() => planSigningKey(ecdsa, { groupKey: key.publicKey!, chainCode: key.chainCode! }, [], {})).toThrow(/do not make Taproot signatures/);
  });
});
