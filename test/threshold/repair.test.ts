import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inProcessAuth, runParties } from '../../protocol/testing/driver.ts';
import { partyId, sessionId, type PartyId } from '../../protocol/core/ids.ts';
import { Party } from '../../protocol/core/party.ts';
import type { FrostKeyShare } from '../../protocol/threshold/keys.ts';
import { frostKeys, runFrostSign, systemRng } from '../../protocol/testing/frost.ts';
import { frostRepairHelper, frostRepairProtocol, frostRepairTarget, repairStep2, repairStep3 } from '../../protocol/threshold/repair.ts';
import type { FrostScheme } from '../../protocol/curves/ciphersuites.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const SUITES: [string, FrostScheme][] = [
  ['ed25519', 'eddsa-ed25519'],
  ['secp256k1', 'frost-secp256k1'],
  ['secp256k1-tr', 'schnorr-bip340'],
];

describe.each(SUITES)('repair-share.json (%s)', (dir, scheme) => {
  const v = JSON.parse(readFileSync(new URL(`../../../shared/vectors/frost/${dir}/repair-share.json`, import.meta.url), 'utf8')) as {
    scalar_generation: Record<string, string>;
    sigma_generation: Record<string, string>;
  };
  it('sums the random values of step 1 and the sigmas of steps 2 and 3 as the vectors do', () => {
    const g = v.scalar_generation;
    expect(hex(repairStep2(scheme, [g.random_scalar_1!, g.random_scalar_2!, g.random_scalar_3!].map((x) => Buffer.from(x, 'hex'))))).toBe(g.random_scalar_sum);
    const s = v.sigma_generation;
    expect(hex(repairStep3(scheme, [s.sigma_1!, s.sigma_2!, s.sigma_3!, s.sigma_4!].map((x) => Buffer.from(x, 'hex'))))).toBe(s.sigma_sum);
  });
});

function repair(keys: ReadonlyMap<PartyId, FrostKeyShare>, helpers: PartyId[], lost: PartyId, scheme: FrostScheme, tamper?: PartyId) {
  const ids = [...helpers, lost].sort((a, b) => a - b);
  const auth = inProcessAuth(ids);
  const session = sessionId(systemRng(32));
  const parties = ids.map(
    (self) =>
      new Party<unknown>(
        { protocol: frostRepairProtocol(scheme), session, self, parties: ids, rng: systemRng, auth: auth.get(self)! },
        self === lost ? frostRepairTarget(scheme) : frostRepairHelper(keys.get(self)!, lost),
      ),
  );
  return runParties(parties, {
    intercept: (msg) => {
      if (tamper === msg.from && msg.kind === 'direct' && msg.round === 2) {
        const payload = Uint8Array.from(msg.payload);
        payload[payload.length - 1]! ^= 1;
        return [{ ...msg, payload }];
      }
      return [msg];
    },
  });
}

describe.each(['eddsa-ed25519', 'schnorr-bip340'] as const)('share repair session (%s)', (scheme) => {
  it('t helpers rebuild the lost share exactly; it signs again', () => {
    const keys = frostKeys(scheme, 3, 5);
    const lost = partyId(4);
    const { outputs, aborts } = repair(keys, [1, 2, 5].map(partyId), lost, scheme);
    expect(aborts.size).toBe(0);
    const repaired = outputs.get(lost) as FrostKeyShare;
    expect(hex(repaired.signingShare)).toBe(hex(keys.get(lost)!.signingShare));
    expect(hex(repaired.chainCode!)).toBe(hex(keys.get(lost)!.chainCode!));
    const withRepaired = new Map(keys);
    withRepaired.set(lost, repaired);
    expect(runFrostSign(withRepaired, [2, 3, 4].map(partyId), new Uint8Array(32).fill(1)).aborts.size).toBe(0);
  });

  it('a lying helper makes the repair abort instead of yielding a wrong share', () => {
    const keys = frostKeys(scheme, 2, 3);
    const { outputs, aborts } = repair(keys, [1, 3].map(partyId), partyId(2), scheme, partyId(3));
    expect(outputs.has(partyId(2))).toBe(false);
    expect(aborts.get(partyId(2))!.reason).toBe('invalid_share');
  });
});
