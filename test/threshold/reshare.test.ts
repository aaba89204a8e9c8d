import { describe, expect, it } from 'vitest';
import { inProcessAuth, runParties } from '../../protocol/testing/driver.ts';
import { partyId, sessionId, type PartyId } from '../../protocol/core/ids.ts';
import { Party } from '../../protocol/core/party.ts';
import type { FrostKeyShare } from '../../protocol/threshold/keys.ts';
import { frostKeys, runFrostSign, systemRng } from '../../protocol/testing/frost.ts';
import { frostReshare, frostReshareProtocol, type ReshareDealt } from '../../protocol/threshold/reshare.ts';

const ids = (...n: number[]) => n.map(partyId);

function reshare(keys: ReadonlyMap<PartyId, FrostKeyShare>, dealers: PartyId[], newParties: PartyId[], newThreshold: number, tamper?: PartyId) {
  const scheme = keys.values().next().value!.scheme;
  const all = [...new Set([...dealers, ...newParties])].sort((a, b) => a - b);
  const auth = inProcessAuth(all);
  const session = sessionId(systemRng(32));
  const parties = all.map(
    (self) =>
      new Party<FrostKeyShare | ReshareDealt>(
        { protocol: frostReshareProtocol(scheme), session, self, parties: all, rng: systemRng, auth: auth.get(self)! },
        frostReshare({ scheme, dealers, newParties, newThreshold }, dealers.includes(self) ? keys.get(self) : undefined),
      ),
  );
  return runParties(parties, {
    intercept: (msg) => {
      if (tamper === msg.from && msg.kind === 'direct') {
        const payload = Uint8Array.from(msg.payload);
        payload[payload.length - 1]! ^= 1;
        return [{ ...msg, payload }];
      }
      return [msg];
    },
  });
}

describe.each(['eddsa-ed25519', 'schnorr-bip340'] as const)('FROST resharing (%s)', (scheme) => {
  it('moves a 2-of-3 key to a 3-of-4 committee with two new members; the key and chain code stay; any 3 new holders sign', () => {
    const keys = frostKeys(scheme, 2, 3);
    const { outputs, aborts } = reshare(keys, ids(1, 3), ids(2, 3, 4, 5), 3);
    expect(aborts.size).toBe(0);
    expect(outputs.get(partyId(1))).toEqual({ dealt: true });
    const next = new Map([...outputs].filter(([, o]) => !('dealt' in o)) as [PartyId, FrostKeyShare][]);
    expect([...next.keys()]).toEqual(ids(2, 3, 4, 5));
    const old = keys.get(partyId(1))!;
    for (const k of next.values()) {
      expect(Buffer.from(k.groupKey)).toEqual(Buffer.from(old.groupKey));
      expect(Buffer.from(k.chainCode!)).toEqual(Buffer.from(old.chainCode!));
      expect(k.threshold).toBe(3);
    }
    for (const signers of [ids(2, 3, 4), ids(3, 4, 5), ids(2, 4, 5)]) {
      const r = runFrostSign(next, signers, new Uint8Array(32).fill(9));
      expect(r.aborts.size).toBe(0);
    }
    expect(Buffer.from(next.get(partyId(2))!.signingShare)).not.toEqual(Buffer.from(keys.get(partyId(2))!.signingShare));
  });

  it('a dealer sending a wrong share is blamed', () => {
    const keys = frostKeys(scheme, 2, 3);
    const { aborts } = reshare(keys, ids(1, 2), ids(2, 3, 4), 2, partyId(1));
    expect(aborts.size).toBeGreaterThan(0);
    for (const a of aborts.values()) expect(a.culprits).toEqual(ids(1));
  });
});
