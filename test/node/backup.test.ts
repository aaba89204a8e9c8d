import { describe, expect, it } from 'vitest';
import { combineSecret, splitSecret } from '../../node/backup.ts';
import { secp256k1 } from '@noble/curves/secp256k1.js';

describe('custodian shares (Shamir M-of-N)', () => {
  it('any M of N rebuild the backup key; fewer are refused; a forged share gives another key', () => {
    const secret = secp256k1.Point.Fn.toBytes(123456789n);
    const shares = splitSecret(secret, 3, 5);
    for (const pick of [[0, 1, 2], [0, 2, 4], [4, 3, 1], [1, 2, 3]]) {
      expect(Buffer.from(combineSecret(pick.map((i) => shares[i]!)))).toEqual(Buffer.from(secret));
    }
    expect(() => combineSecret([shares[0]!, shares[1]!])).toThrow(/need 3/);
    expect(() => combineSecret([shares[0]!, shares[0]!, shares[1]!])).toThrow(/need 3/);
    const forged = shares[2]!.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    expect(Buffer.from(combineSecret([shares[0]!, shares[1]!, forged]))).not.toEqual(Buffer.from(secret));
    expect(() => splitSecret(secret, 1, 5)).toThrow(/custodian threshold must satisfy 2 <= M <= N/);
  });
});
