/**
 * BIP341's wallet test vectors (../shared/vectors/bip/bip341-wallet-test-vectors.json) through
 * our x-only tweak of a threshold key share (protocol/threshold/tweak.ts): the output key of
 * every script-tree case, and on the secret side, the tweaked private key of every key-path
 * spend (BIP341 negates the internal key when its Y is odd, then adds the tweak).
 */
import { readFileSync } from 'node:fs';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import type { Bytes } from '../../protocol/core/codec.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import { tweakFrostKeyShare, type FrostKeyShare } from '../../protocol/threshold/index.ts';

interface Vectors {
  scriptPubKey: { given: { internalPubkey: string }; intermediary: { tweak: string; tweakedPubkey: string }; expected: { scriptPubKey: string } }[];
  keyPathSpending: { inputSpending: { given: { internalPrivkey: string }; intermediary: { internalPubkey: string; tweak: string; tweakedPrivkey: string } }[] }[];
}
const vectors = JSON.parse(readFileSync(new URL('../../../shared/vectors/bip/bip341-wallet-test-vectors.json', import.meta.url), 'utf8')) as Vectors;
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex')) as Bytes;

/** A one-holder "share" of the key with secret x and point P (a t-of-n share tweaks the same way, holder by holder). */
function shareOf(point: Uint8Array, secret: Uint8Array): FrostKeyShare {
  const self = 1 as PartyId;
  return { scheme: 'schnorr-bip340', self, threshold: 1, parties: [self], groupKey: point as Bytes, commitments: [point as Bytes], verifyingShares: new Map([[self, point as Bytes]]), signingShare: secret as Bytes };
}

describe('BIP341 wallet vectors through the x-only share tweak', () => {
  it('every script-tree case: the tweaked output key and its scriptPubKey', () => {
    for (const v of vectors.scriptPubKey) {
      // Only the public side is given: lift_x(internal) with even Y, any secret (the tweak shifts the points regardless).
      const tweaked = tweakFrostKeyShare(shareOf(hex(`02${v.given.internalPubkey}`), hex('01'.padStart(64, '0'))), hex(v.intermediary.tweak), { mode: 'x-only' });
      const xOnly = Buffer.from(tweaked.groupKey.subarray(1)).toString('hex');
      expect(xOnly).toBe(v.intermediary.tweakedPubkey);
      expect(`5120${xOnly}`).toBe(v.expected.scriptPubKey);
    }
  });

  it('every key-path spend: the tweaked private key, with the internal key negated when its Y is odd', () => {
    let odd = 0;
    for (const input of vectors.keyPathSpending.flatMap((k) => k.inputSpending)) {
      const secret = hex(input.given.internalPrivkey);
      const point = secp256k1.getPublicKey(secret, true);
      if (point[0] === 3) odd++;
      expect(Buffer.from(point.subarray(1)).toString('hex')).toBe(input.intermediary.internalPubkey);
      const tweaked = tweakFrostKeyShare(shareOf(point, secret), hex(input.intermediary.tweak), { mode: 'x-only' });
      expect(Buffer.from(tweaked.signingShare).toString('hex')).toBe(input.intermediary.tweakedPrivkey);
      // The share's verifying share moved with it: it is the tweaked secret's point.
      expect(Buffer.from(tweaked.verifyingShares.get(1 as PartyId)!).toString('hex')).toBe(Buffer.from(secp256k1.getPublicKey(tweaked.signingShare, true)).toString('hex'));
    }
    expect(odd).toBeGreaterThan(0); // the negation branch is exercised
  });
});
