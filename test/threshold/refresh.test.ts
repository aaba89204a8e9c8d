import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { inProcessAuth, runParties } from '../../protocol/testing/driver.ts';
import { sessionId, type PartyId } from '../../protocol/core/ids.ts';
import { Party } from '../../protocol/core/party.ts';
import { frostKeys, partyRange, runFrostSign, systemRng } from '../../protocol/testing/frost.ts';
import type { FrostKeyShare } from '../../protocol/threshold/keys.ts';
import { frostRefresh, frostRefreshProtocol } from '../../protocol/threshold/refresh.ts';
import { frostSuite } from '../../protocol/curves/ciphersuites.ts';

function refresh(keys: ReadonlyMap<PartyId, FrostKeyShare>, tamper?: (from: PartyId) => boolean) {
  const ids = [...keys.keys()];
  const auth = inProcessAuth(ids);
  const session = sessionId(systemRng(32));
  const parties = ids.map((self) => new Party({ protocol: frostRefreshProtocol(keys.get(self)!), session, self, parties: ids, rng: systemRng, auth: auth.get(self)! }, frostRefresh(keys.get(self)!)));
  return runParties(parties, {
    intercept: (msg, to) => {
      if (tamper?.(msg.from) && msg.kind === 'direct' && msg.round === 2) {
        const payload = Uint8Array.from(msg.payload);
        payload[payload.length - 1]! ^= 1;
        return [{ ...msg, payload }];
      }
      void to;
      return [msg];
    },
  });
}

/** Σ λ_i x_i over the given shares, times G: the key those shares reconstruct. */
function reconstructs(scheme: FrostKeyShare['scheme'], shares: readonly FrostKeyShare[]): Uint8Array {
  const Point = scheme === 'eddsa-ed25519' ? ed25519.Point : secp256k1.Point;
  const Fn = frostSuite(scheme).frost.utils.Fn;
  const ids = shares.map((s) => BigInt(s.self));
  let x = 0n;
  for (const s of shares) {
    const i = BigInt(s.self);
    let num = 1n;
    let den = 1n;
    for (const j of ids) if (j !== i) {
      num = Fn.mul(num, j);
      den = Fn.mul(den, Fn.sub(j, i));
    }
    x = Fn.add(x, Fn.mul(Fn.fromBytes(s.signingShare), Fn.div(num, den)));
  }
  return scheme === 'eddsa-ed25519' ? (Point.BASE.multiply(x) as InstanceType<typeof ed25519.Point>).toBytes() : (Point.BASE.multiply(x) as InstanceType<typeof secp256k1.Point>).toBytes(true);
}

describe.each(['eddsa-ed25519', 'schnorr-bip340'] as const)('FROST refresh (%s)', (scheme) => {
  it('changes every share, keeps the key, still signs, and old and new shares do not mix', () => {
    const keys = frostKeys(scheme, 2, 3);
    const { outputs, aborts } = refresh(keys);
    expect(aborts.size).toBe(0);
    for (const id of partyRange(3)) {
      const before = keys.get(id)!;
      const after = outputs.get(id)!;
      expect(Buffer.from(after.groupKey)).toEqual(Buffer.from(before.groupKey));
      expect(Buffer.from(after.signingShare)).not.toEqual(Buffer.from(before.signingShare));
    }
    const signed = runFrostSign(outputs, partyRange(2), new Uint8Array(32).fill(5));
    expect(signed.aborts.size).toBe(0);
    const group = Buffer.from(keys.get(partyRange(1)[0]!)!.commitments[0]!);
    expect(Buffer.from(reconstructs(scheme, [outputs.get(partyRange(3)[0]!)!, outputs.get(partyRange(3)[2]!)!]))).toEqual(group);
    expect(Buffer.from(reconstructs(scheme, [keys.get(partyRange(3)[0]!)!, outputs.get(partyRange(3)[2]!)!]))).not.toEqual(group);
  });

  it('a wrong refresh share aborts naming its dealer', () => {
    const keys = frostKeys(scheme, 2, 3);
    const { aborts } = refresh(keys, (from) => from === partyRange(3)[1]);
    expect(aborts.size).toBeGreaterThan(0);
    for (const a of aborts.values()) expect(a.culprits).toEqual([partyRange(3)[1]]);
  });
});
