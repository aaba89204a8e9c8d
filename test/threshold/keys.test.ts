/** The DKG's joint chain code, the key-share byte format, zeroisation and tweaked-key signing. */
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { bytes, decodeCbor, encodeCbor, struct, type PartyId } from '../../protocol/core/index.ts';
import { decodeFrostKeyShare, encodeFrostKeyShare, tweakFrostKeyShare, zeroizeFrostKeyShare } from '../../protocol/threshold/index.ts';
import { FROST_SCHEMES, frostSuite } from '../../protocol/curves/ciphersuites.ts';
import { frostKeys, runFrostDkg, runFrostSign, runFrostSignCoordinated, systemRng } from '../../protocol/testing/frost.ts';
import { frostSignatureVerifies } from '../support/verifiers.ts';
import { DecodeError } from '../../protocol/core/errors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const msg = new TextEncoder().encode('tweaked and derived');

describe.each(FROST_SCHEMES)('FROST key shares (%s)', (scheme) => {
  it('the DKG gives every party the same 32-byte chain code, fresh per key', () => {
    const a = frostKeys(scheme, 2, 3);
    const b = frostKeys(scheme, 2, 3);
    const codes = new Set([...a.values()].map((k) => hex(k.chainCode!)));
    expect(codes.size).toBe(1);
    expect(a.get(1 as PartyId)!.chainCode!.length).toBe(32);
    expect(hex(b.get(1 as PartyId)!.chainCode!)).not.toBe([...codes][0]);
  });

  it('encodes and decodes a key share exactly, with and without a chain code', () => {
    const keys = frostKeys(scheme, 3, 4);
    for (const share of keys.values()) {
      const again = decodeFrostKeyShare(encodeFrostKeyShare(share));
      expect(again).toEqual(share);
      expect(hex(encodeFrostKeyShare(again))).toBe(hex(encodeFrostKeyShare(share)));
    }
    const { chainCode: _, ...plain } = keys.get(2 as PartyId)!;
    const decoded = decodeFrostKeyShare(encodeFrostKeyShare(plain));
    expect(decoded.chainCode).toBeUndefined();
    expect(decoded).toEqual(plain);
  });

  it('rejects garbage, extra or missing fields, trailing bytes and inconsistent shares', () => {
    const keys = frostKeys(scheme, 2, 3);
    const share = keys.get(1 as PartyId)!;
    const other = keys.get(2 as PartyId)!;
    const good = encodeFrostKeyShare(share);
    const raw = decodeCbor(struct({ all: { encode: (v: unknown) => v as never, decode: (r: unknown) => r } }), Uint8Array.from([0x81, ...good]));
    const fields = raw.all as unknown[];
    const reencode = (f: unknown[]) => encodeCbor({ encode: (v: unknown[]) => v as never, decode: (r) => r as unknown[] }, f);
    const bad: [string, Uint8Array][] = [
      ['garbage', Uint8Array.from([1, 2, 3, 4])],
      ['empty', new Uint8Array()],
      ['trailing byte', Uint8Array.from([...good, 0])],
      ['extra field', reencode([...fields, 1])],
      ['missing field', reencode(fields.slice(0, -1))],
      ['wrong version', reencode([2, ...fields.slice(1)])],
      ['unknown scheme', reencode([1, 'ecdsa-p256', ...fields.slice(2)])],
      ['self not a party', reencode([1, scheme, 9, ...fields.slice(3)])],
      ['threshold above n', reencode([...fields.slice(0, 3), 4, ...fields.slice(4)])],
      ['signing share of another party', reencode([...fields.slice(0, 8), other.signingShare, fields[9]])],
      ['group key not commitments[0]', reencode([...fields.slice(0, 5), (fields[7] as unknown[][])[0]![1], ...fields.slice(6)])],
      ['verifying shares for other parties', reencode([...fields.slice(0, 7), (fields[7] as unknown[][]).slice(1), ...fields.slice(8)])],
      ['bad chain code length', reencode([...fields.slice(0, 9), [new Uint8Array(31)]])],
    ];
    for (const [what, b] of bad) expect(() => decodeFrostKeyShare(b), what).toThrow(DecodeError);
    expect(decodeFrostKeyShare(reencode(fields))).toEqual(share);
  });

  it('zeroises a share in place', () => {
    const share = frostKeys(scheme, 2, 3).get(1 as PartyId)!;
    zeroizeFrostKeyShare(share);
    expect(share.signingShare.every((b) => b === 0)).toBe(true);
  });

  it('tweaked shares sign under Y + δ·G, in both signing modes', () => {
    const keys = frostKeys(scheme, 2, 3);
    const Fn = scheme === 'eddsa-ed25519' ? ed25519.Point.Fn : secp256k1.Point.Fn;
    const randomDelta = () => Fn.fromBytes(systemRng(32).map((b, j) => (j === (scheme === 'eddsa-ed25519' ? 31 : 0) ? b & 0x0f : b)));
    const parity = (d: bigint) => secp256k1.Point.fromBytes(keys.get(1 as PartyId)!.groupKey).add(secp256k1.Point.BASE.multiply(d)).toBytes(true)[0]!;
    // On secp256k1 sign with one child of even and one of odd Y.
    const deltas: bigint[] = [randomDelta()];
    if (scheme !== 'eddsa-ed25519') {
      let d = randomDelta();
      while (parity(d) === parity(deltas[0]!)) d = randomDelta();
      deltas.push(d);
    }
    const parities = new Set<number>();
    for (const delta of deltas) {
      const tweak = Fn.toBytes(delta);
      const child = new Map([...keys].map(([p, k]) => [p, tweakFrostKeyShare(k, tweak)] as const));
      const groupKey = child.get(1 as PartyId)!.groupKey;
      const expected =
        scheme === 'eddsa-ed25519'
          ? ed25519.Point.fromBytes(keys.get(1 as PartyId)!.groupKey).add(ed25519.Point.BASE.multiply(delta)).toBytes()
          : secp256k1.Point.fromBytes(keys.get(1 as PartyId)!.groupKey).add(secp256k1.Point.BASE.multiply(delta)).toBytes(true);
      expect(hex(groupKey)).toBe(hex(expected));
      parities.add(groupKey[0]!);
      const pk = frostSuite(scheme).userPublicKey(groupKey);
      const coordinated = runFrostSignCoordinated(child, [1, 3] as PartyId[], msg);
      expect(coordinated.aborts.size).toBe(0);
      expect(frostSignatureVerifies(scheme, coordinated.signature!.signature, msg, pk)).toBe(true);
      const broadcast = runFrostSign(child, [2, 3] as PartyId[], msg);
      expect(broadcast.aborts.size).toBe(0);
      expect(frostSignatureVerifies(scheme, broadcast.outputs.get(2 as PartyId)!.signature, msg, pk)).toBe(true);
      expect(decodeFrostKeyShare(encodeFrostKeyShare(child.get(3 as PartyId)!))).toEqual(child.get(3 as PartyId)!);
    }
    if (scheme !== 'eddsa-ed25519') expect(parities).toEqual(new Set([2, 3]));
  });
});

describe('x-only (BIP341) tweaks of schnorr-bip340 keys', () => {
  it('sign under lift_x(x(Y)) + δ·G whatever the parity of Y', () => {
    const seen = new Set<number>();
    while (seen.size < 2) {
      const keys = frostKeys('schnorr-bip340', 2, 3);
      seen.add(keys.get(1 as PartyId)!.groupKey[0]!);
      const evenY = secp256k1.Point.fromBytes(Uint8Array.from([2, ...keys.get(1 as PartyId)!.groupKey.subarray(1)]));
      const delta = secp256k1.Point.Fn.fromBytes(systemRng(32).map((b, j) => (j === 0 ? b & 0x7f : b)));
      const child = new Map([...keys].map(([p, k]) => [p, tweakFrostKeyShare(k, secp256k1.Point.Fn.toBytes(delta), { mode: 'x-only' })] as const));
      const q = evenY.add(secp256k1.Point.BASE.multiply(delta)).toBytes(true);
      expect(hex(child.get(2 as PartyId)!.groupKey)).toBe(hex(q));
      const { signature, aborts } = runFrostSignCoordinated(child, [2, 3] as PartyId[], msg);
      expect(aborts.size).toBe(0);
      expect(schnorr.verify(signature!.signature, msg, q.subarray(1))).toBe(true);
    }
  });
});

describe('chain-code commitments', () => {
  it('a party that opens a different contribution than it committed to is named', () => {
    const round2 = struct({ signingShare: bytes(32), chainCodeContribution: bytes(32) });
    const { aborts, outputs } = runFrostDkg('eddsa-ed25519', 2, 3, {
      intercept: (m, to) => {
        if (m.from !== 2 || m.round !== 2 || m.kind !== 'direct' || to !== 3) return [m];
        const p = decodeCbor(round2, m.payload);
        return [{ ...m, payload: encodeCbor(round2, { ...p, chainCodeContribution: flip(p.chainCodeContribution) }) }];
      },
    });
    expect(outputs.has(3 as PartyId)).toBe(false);
    expect(aborts.get(3 as PartyId)?.reason).toBe('invalid_commitment_opening');
    expect(aborts.get(3 as PartyId)?.culprits).toEqual([2]);
  });
});

function flip(b: Uint8Array): Uint8Array<ArrayBuffer> {
  const c = Uint8Array.from(b);
  c[0]! ^= 1;
  return c;
}
