/**
 * Published FROST test vectors (RFC 9591 / Zcash frost-rs) against our suites in
 * protocol/frost/suites.ts: trusted-dealer shares, round-one commitments from the vectors'
 * nonce randomness, signature shares, aggregate signatures (checked with the ordinary
 * verifier), DKG outputs, invalid elements through our strict codecs, and the BIP340 vectors
 * through the schnorr-bip340 verifier. Vectors are read in place from ../shared/vectors/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, bytesToNumberLE, concatBytes, hexToBytes } from '@noble/curves/utils.js';
import type { DKG_Round1, DKG_Round2, NonceCommitments, Nonces, RNG } from '@noble/curves/abstract/frost.js';
import { describe, expect, it } from 'vitest';
import { bytes, decodeCbor, encodeCbor } from '../../protocol/core/codec.ts';
import { DecodeError } from '../../protocol/core/errors.ts';
import { partyId } from '../../protocol/core/ids.ts';
import { frostSuite, type FrostScheme, type FrostSuite } from '../../protocol/curves/ciphersuites.ts';
import { bip340Rows } from '../support/bip340-vectors.ts';

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

const SECP_INVALID: [string, string][] = [
  ['all zero', '00'.repeat(33)],
  ['x >= p', '02' + 'ff'.repeat(32)],
  ['bad prefix 04', '04' + secp256k1.Point.BASE.toHex(true).slice(2)],
  ['x not on the curve (x = 5)', '02' + '00'.repeat(31) + '05'],
];
const ff = (n: number) => 'ff'.repeat(n);
const ED_TORSION = ed25519.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', false); // order 8
/** Hand-made invalid encodings beyond elements.json, per the codec's documented rules. */
const EXTRA_INVALID_POINTS: Record<FrostScheme, [why: string, hex: string][]> = {
  'eddsa-ed25519': [
    ['identity', '01' + '00'.repeat(31)],
    ['order 2 (y = -1)', 'ec' + ff(30) + '7f'],
    ['order 8', ED_TORSION.toHex()],
    ['mixed order (B + T8)', ed25519.Point.BASE.add(ED_TORSION).toHex()],
    ['non-canonical y = p + 1', 'ee' + ff(30) + '7f'],
  ],
  'frost-secp256k1': SECP_INVALID,
  'schnorr-bip340': SECP_INVALID,
};

/**
 * RFC 9591 H1 (the binding-factor hash, DST = context string || "rho"). noble keeps it
 * internal, so the vectors' binding factors are recomputed here from their published inputs.
 */
function h1(suite: FrostSuite, input: Uint8Array): string {
  const Fn = suite.frost.utils.Fn;
  const DST = new TextEncoder().encode(suite.ciphersuite + 'rho');
  const n =
    suite.scheme === 'eddsa-ed25519'
      ? Fn.create(bytesToNumberLE(sha512(concatBytes(DST, input))))
      : secp256k1_hasher.hashToScalar(input, { DST });
  return bytesToHex(Fn.toBytes(n));
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
        // Binding factor: H1(group key || H4(msg) || H5(commitment list) || identifier).
        expect(o.binding_factor_input.endsWith(id(o.identifier)), `binding factor input of ${o.identifier}`).toBe(true);
        expect(h1(suite, hexToBytes(o.binding_factor_input)), `binding factor of ${o.identifier}`).toBe(o.binding_factor);
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

  it('vectors_dkg.json: round1 from the vector coefficients, round2 shares and round3 outputs match', () => {
    const t = load<DkgVector>(folder, 'vectors_dkg.json');
    const signers = { min: t.config.MIN_PARTICIPANTS, max: t.config.MAX_PARTICIPANTS };
    const parts = Object.values(t.inputs).filter((v): v is DkgParticipant => typeof v !== 'string');
    expect(parts.map((p) => p.identifier)).toEqual([1, 2, 3]);
    // The published round-1 packages (their proofs of knowledge are checked by round2).
    const published = new Map<number, DKG_Round1>(
      parts.map((p) => [
        p.identifier,
        { identifier: id(p.identifier), commitment: p.vss_commitments.map(hexToBytes), proofOfKnowledge: hexToBytes(p.proof_of_knowledge) },
      ]),
    );
    for (const me of parts) {
      const others = parts.filter((p) => p !== me);
      // Our own round 1 from the vector's secret and coefficient; the proof-of-knowledge nonce
      // is not in the vector, so any value does (the vector's own proof is checked by the others).
      const rng = scriptedRng([rngBytesForScalar(suite, me.coefficient), rngBytesForScalar(suite, '01'.padStart(64, '0'))]);
      const r1 = frost.DKG.round1(id(me.identifier), signers, hexToBytes(me.signing_key), rng);
      expect(r1.public.commitment.map(bytesToHex), `commitments of ${me.identifier}`).toEqual(me.vss_commitments);
      const r2 = frost.DKG.round2(
        r1.secret,
        others.map((o) => published.get(o.identifier)!),
      );
      // A participant's `signing_shares` are the shares it received, keyed by sender.
      for (const o of others) expect(bytesToHex(r2[id(o.identifier)]!.signingShare), `share ${me.identifier}->${o.identifier}`).toBe(o.signing_shares[me.identifier]);
      const received: DKG_Round2[] = others.map((o) => ({ identifier: id(o.identifier), signingShare: hexToBytes(me.signing_shares[o.identifier]!) }));
      const key = frost.DKG.round3(r1.secret, others.map((o) => published.get(o.identifier)!), received);
      expect(bytesToHex(key.secret.signingShare), `signing share of ${me.identifier}`).toBe(me.signing_share);
      expect(bytesToHex(key.public.commitments[0]!)).toBe(t.inputs.verifying_key);
      for (const p of parts) expect(bytesToHex(key.public.verifyingShares[id(p.identifier)]!), `verifying share of ${p.identifier}`).toBe(p.verifying_share);
    }
  });

  it('elements.json: invalid elements are rejected by the point codec; vector elements and scalars are accepted', () => {
    const { elements } = load<{ elements: Record<string, string> }>(folder, 'elements.json');
    const invalid = Object.entries(elements).filter(([k]) => k.startsWith('invalid'));
    expect(invalid.length).toBeGreaterThan(0);
    for (const [name, hex] of invalid) {
      const codec = name.includes('scalar') ? suite.scalar : suite.point;
      expect(() => decodeWith(codec, hexToBytes(hex)), name).toThrow(DecodeError);
    }

    // Every group element and scalar published in the other vectors decodes unchanged.
    const sign = load<SignVector>(folder, 'vectors.json');
    const dkg = Object.values(load<DkgVector>(folder, 'vectors_dkg.json').inputs).filter((v): v is DkgParticipant => typeof v !== 'string');
    const points = [
      sign.inputs.verifying_key_key,
      ...sign.round_one_outputs.outputs.flatMap((o) => [o.hiding_nonce_commitment, o.binding_nonce_commitment]),
      ...dkg.flatMap((p) => [...p.vss_commitments, p.verifying_share]),
    ];
    const scalars = [
      sign.inputs.group_secret_key,
      ...sign.inputs.share_polynomial_coefficients,
      ...sign.inputs.participant_shares.map((p) => p.participant_share),
      ...sign.round_one_outputs.outputs.flatMap((o) => [o.hiding_nonce, o.binding_nonce, o.binding_factor]),
      ...sign.round_two_outputs.outputs.map((o) => o.sig_share),
      ...dkg.flatMap((p) => [p.signing_key, p.coefficient, p.signing_share, ...Object.values(p.signing_shares)]),
    ];
    for (const hex of points) expect(bytesToHex(decodeWith(suite.point, hexToBytes(hex)))).toBe(hex);
    for (const hex of scalars) expect(bytesToHex(decodeWith(suite.scalar, hexToBytes(hex)))).toBe(hex);

    // Not in elements.json, but the same rules: scalars at or above the order, wrong lengths.
    const Fn = frost.utils.Fn;
    const be = (n: bigint) => hexToBytes(n.toString(16).padStart(2 * suite.scalarBytes, '0'));
    const enc = (n: bigint) => (Fn.isLE ? be(n).reverse() : be(n));
    for (const n of [Fn.ORDER, Fn.ORDER + 1n, 2n ** BigInt(8 * suite.scalarBytes) - 1n]) {
      expect(() => decodeWith(suite.scalar, enc(n)), `scalar ${n}`).toThrow(DecodeError);
    }
    for (const [why, hex] of EXTRA_INVALID_POINTS[scheme]) expect(() => decodeWith(suite.point, hexToBytes(hex)), why).toThrow(DecodeError);
    expect(() => decodeWith(suite.point, hexToBytes(points[0]!).subarray(1))).toThrow(DecodeError);
    expect(() => decodeWith(suite.scalar, hexToBytes(scalars[0]!).subarray(1))).toThrow(DecodeError);
  });
});

describe('the memoised Ed25519 subgroup check', () => {
  it('remembers only points of prime order: a mixed-order twin of a checked point is still refused by FROST', () => {
    const { frost } = frostSuite('eddsa-ed25519');
    const secret = ed25519.Point.Fn.toBytes(123456789n);
    const pk = ed25519.Point.BASE.multiply(123456789n);
    const msg = new TextEncoder().encode('memo');
    const sig = frost.sign(msg, secret);
    expect(frost.verify(sig, msg, pk.toBytes())).toBe(true);
    expect(frost.verify(sig, msg, pk.toBytes())).toBe(true); // now from the memo
    const mixed = pk.add(ED_TORSION).toBytes(); // same prime-order part, plus an order-8 component
    expect(() => frost.verify(sig, msg, mixed)).toThrow(/prime-order subgroup|torsion/);
    expect(() => frost.verify(sig, msg, mixed)).toThrow(/prime-order subgroup|torsion/);
    expect(() => frost.verify(sig, msg, ED_TORSION.toBytes())).toThrow(/prime-order subgroup|torsion|invalid|bad point/i);
  });
});

describe('BIP340 vectors through the schnorr-bip340 verifier', () => {
  const suite = frostSuite('schnorr-bip340');
  const rows = bip340Rows;

  it('has the published rows', () => expect(rows.length).toBeGreaterThanOrEqual(15));

  it.each(rows)('row %s', (index, _secretKey, publicKey, _auxRand, message, signature, result, comment) => {
    const expected = result === 'TRUE';
    expect(result === 'TRUE' || result === 'FALSE', `row ${index}`).toBe(true);
    expect(suite.verify(hexToBytes(signature!), hexToBytes(message!), hexToBytes(publicKey!)), comment || `row ${index}`).toBe(expected);
  });
});
