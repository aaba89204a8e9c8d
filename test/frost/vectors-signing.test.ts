/**
 * Ground truth we did not write: the Zcash / RFC 9591 FROST signing vectors, the invalid
 * element encodings, and the BIP340 verifier vectors, read in place from ../shared/vectors.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { bytes, decodeCbor, DecodeError, encodeCbor } from '../../protocol/core/index.ts';
import { frostSuite, type FrostScheme } from '../../protocol/frost/index.ts';

const VECTORS = resolve(import.meta.dirname, '../../../shared/vectors');
const FOLDERS: [string, FrostScheme][] = [
  ['ed25519', 'eddsa-ed25519'],
  ['secp256k1', 'frost-secp256k1'],
  ['secp256k1-tr', 'schnorr-bip340'],
];

interface SigningVector {
  config: { MIN_PARTICIPANTS: string; MAX_PARTICIPANTS: string };
  inputs: {
    participant_list: number[];
    verifying_key_key: string;
    message: string;
    participant_shares: { identifier: number; participant_share: string }[];
  };
  round_one_outputs: {
    outputs: {
      identifier: number;
      hiding_nonce_randomness: string;
      binding_nonce_randomness: string;
      hiding_nonce_commitment: string;
      binding_nonce_commitment: string;
    }[];
  };
  round_two_outputs: { outputs: { identifier: number; sig_share: string }[] };
  final_output: { sig: string };
}

const read = <T>(...path: string[]): T => JSON.parse(readFileSync(join(VECTORS, ...path), 'utf8')) as T;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe.each(FOLDERS)('FROST vectors: %s', (folder, scheme) => {
  const suite = frostSuite(scheme);
  const { frost } = suite;

  it.each(['vectors.json', 'vectors-big-identifier.json'])('%s: commitments, signature shares and the aggregate match', (file) => {
    const v = read<SigningVector>('frost', folder, file);
    const min = Number(v.config.MIN_PARTICIPANTS);
    const max = Number(v.config.MAX_PARTICIPANTS);
    const shareOf = new Map(v.inputs.participant_shares.map((s) => [s.identifier, hexToBytes(s.participant_share)]));
    const ident = (n: number) => frost.Identifier.fromNumber(n);
    const verifyingShares = Object.fromEntries(
      v.inputs.participant_list.map((id) => {
        const sk = shareOf.get(id)!;
        // The verifying share of a signer is its share times the generator: a single-party key.
        return [ident(id), publicOf(scheme, sk)];
      }),
    );
    const pub = { signers: { min, max }, commitments: [hexToBytes(v.inputs.verifying_key_key)], verifyingShares };
    const message = hexToBytes(v.inputs.message);
    const committed = v.round_one_outputs.outputs.map((o) => {
      const queue = [hexToBytes(o.hiding_nonce_randomness), hexToBytes(o.binding_nonce_randomness)];
      const secret = { identifier: ident(o.identifier), signingShare: shareOf.get(o.identifier)! };
      const c = frost.commit(secret, () => queue.shift()!);
      expect(hex(c.commitments.hiding)).toBe(o.hiding_nonce_commitment);
      expect(hex(c.commitments.binding)).toBe(o.binding_nonce_commitment);
      return { secret, ...c };
    });
    const list = committed.map((c) => c.commitments);
    const shares: Record<string, Uint8Array> = {};
    for (const c of committed) {
      const expected = v.round_two_outputs.outputs.find((o) => ident(o.identifier) === c.secret.identifier)!;
      const share = frost.signShare(c.secret, pub, c.nonces, list, message);
      expect(hex(share)).toBe(expected.sig_share);
      shares[c.secret.identifier] = share;
    }
    const sig = frost.aggregate(pub, list, message, shares);
    expect(hex(sig)).toBe(v.final_output.sig);
    expect(suite.verify(sig, message, suite.userPublicKey(hexToBytes(v.inputs.verifying_key_key)))).toBe(true);
  });

  it('elements.json: the invalid element is rejected by our strict point codec', () => {
    const { elements } = read<{ elements: Record<string, string> }>('frost', folder, 'elements.json');
    for (const bad of Object.values(elements)) {
      const b = hexToBytes(bad);
      expect(() => decodeCbor(suite.point, encodeCbor(bytes(b.length), b))).toThrow(DecodeError);
    }
    const good = hexToBytes(read<SigningVector>('frost', folder, 'vectors.json').inputs.verifying_key_key);
    expect(decodeCbor(suite.point, encodeCbor(bytes(good.length), good))).toEqual(good);
  });

  it('rejects the identity and out-of-range scalars', () => {
    const order = frost.utils.Fn.ORDER;
    const le = scheme === 'eddsa-ed25519';
    const enc = (n: bigint) => {
      const b = hexToBytes(n.toString(16).padStart(64, '0'));
      return le ? b.reverse() : b;
    };
    expect(() => decodeCbor(suite.scalar, encodeCbor(bytes(32), enc(order)))).toThrow(DecodeError);
    expect(decodeCbor(suite.scalar, encodeCbor(bytes(32), enc(order - 1n)))).toEqual(enc(order - 1n));
    const identity = scheme === 'eddsa-ed25519' ? hexToBytes('01'.padEnd(64, '0')) : new Uint8Array(33);
    expect(() => decodeCbor(suite.point, encodeCbor(bytes(identity.length), identity))).toThrow(DecodeError);
  });
});

describe('BIP340 verifier vectors', () => {
  it('noble schnorr.verify (our BIP340 verifier) agrees with every row of bip340-test-vectors.csv', () => {
    const rows = readFileSync(join(VECTORS, 'bip/bip340-test-vectors.csv'), 'utf8').trim().split('\n').slice(1);
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) {
      const [, , pk, , msg, sig, result] = row.split(',');
      let ok: boolean;
      try {
        ok = frostSuite('schnorr-bip340').verify(hexToBytes(sig!.toLowerCase()), hexToBytes(msg!.toLowerCase()), hexToBytes(pk!.toLowerCase()));
      } catch {
        ok = false;
      }
      expect(ok, row).toBe(result === 'TRUE');
    }
  });
});

function publicOf(scheme: FrostScheme, sk: Uint8Array): Uint8Array {
  const n = frostSuite(scheme).frost.utils.Fn.fromBytes(sk);
  return scheme === 'eddsa-ed25519' ? ed25519.Point.BASE.multiply(n).toBytes() : secp256k1.Point.BASE.multiply(n).toBytes(true);
}
