/**
 * Every required scenario in its short form, with the criteria of the simulation issue
 * asserted; the full forms run under `npm run sim`.
 */
import { describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult } from '../../simulations/harness.ts';
import { SCENARIOS } from '../../simulations/scenarios.ts';

const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;

function safe(r: ScenarioResult): void {
  expect(r.safety.invalidSignatures).toBe(0);
  expect(r.safety.leakedShares).toBe(0);
  expect(r.blame.wrong).toBe(0);
}

describe('simulation scenarios (short forms)', () => {
  it('crash-two: two of five nodes crash mid-run, every request still succeeds', async () => {
    const r = await runScenario(scenario('crash-two'), true);
    safe(r);
    expect(r.successes).toBe(r.requests);
  });

  it('three-down: refused with quorum_unavailable (not by the deadline), then signing resumes after the restarts', async () => {
    const r = await runScenario(scenario('three-down'), true);
    safe(r);
    // How fast it refuses and resumes are figures of `npm run sim`, not limits a shared CI machine can hold to.
    expect(r.figures.refusedCause).toBe('quorum_unavailable');
    expect(r.records.slice(-5).every((x) => x.ok)).toBe(true);
  });

  it('partition: the majority side keeps signing, and after healing all five take part', async () => {
    const r = await runScenario(scenario('partition'), true);
    safe(r);
    expect(r.successes).toBe(r.requests);
    expect(r.figures.signersDuringPartition).toBe('3,4,5');
    expect(r.figures.signersAfterHeal).toBe('1,2,3,4,5');
  });

  it('drop-jitter: 10% drop and 50 ms jitter, at least 99% succeed within the deadline', async () => {
    const r = await runScenario(scenario('drop-jitter'), true);
    safe(r);
    expect(r.successes / r.requests).toBeGreaterThanOrEqual(0.99);
  });

  it('byzantine: aborts blame the byzantine node every time, the coordinator stops choosing it, requests succeed', async () => {
    const r = await runScenario(scenario('byzantine'), true);
    safe(r);
    expect(r.blame.correct).toBeGreaterThanOrEqual(1); // suspected once two different nodes named it
    expect(r.figures.signaturesWithNode2AfterAccused).toBe(0);
    expect(r.figures.node2Suspected).toBe('yes');
    expect(r.figures.dkgWithEquivocator).not.toBe('completed');
    expect(r.successes).toBe(r.requests);
  });

  it('byzantine-ecdsa: a DKLs23 node probing the OT extension is named, burned by the honest nodes, and left out; requests succeed', async () => {
    const r = await runScenario(scenario('byzantine-ecdsa'), true);
    safe(r);
    expect(r.figures.signaturesWithNode2AfterAccused).toBe(0);
    expect(r.figures.nodesThatBurnedNode2).not.toBe('none');
    // Both honest co-signers' aborts count, the one that settled the attempt and the late one.
    expect(r.figures.node2Suspected).toBe('yes');
    expect(r.blame).toEqual({ correct: 1, wrong: 0 });
    expect(r.successes).toBe(r.requests);
  });

  it('false-accuser: a lying aggregator cannot get honest signers excluded; requests succeed', async () => {
    const r = await runScenario(scenario('false-accuser'), true);
    safe(r); // blame.wrong === 0: no honest node was ever suspected
    expect(r.figures.suspected).not.toMatch(/[2-5]/);
    expect(r.successes).toBe(r.requests);
  });

  it('presign-crash: pools consumed while nodes die and return; no presignature is used twice and every signature verifies', async () => {
    const r = await runScenario(scenario('presign-crash'), true);
    expect(r.safety.invalidSignatures).toBe(0);
    expect(r.figures.presignaturesUsedTwice).toBe(0);
    expect(r.figures.presignedShares).toBeGreaterThan(20);
    expect(r.successes / r.requests).toBeGreaterThanOrEqual(0.95);
  });

  it('rolling-restarts: every node restarted in turn, no share lost, at least 99% succeed', async () => {
    const r = await runScenario(scenario('rolling-restarts'), true);
    safe(r);
    expect(r.figures.sharesIntact).toBe('yes');
    expect(r.successes / r.requests).toBeGreaterThanOrEqual(0.99);
  });

  it('lifecycle-crash: a node killed mid-refresh and mid-reshare leaves a key that signs with one consistent epoch', async () => {
    const r = await runScenario(scenario('lifecycle-crash'), true);
    safe(r);
    expect(r.figures.refresh).not.toBe('committed');
    expect(r.figures.epochAfterRefreshCrash).toBe(0);
    expect(r.figures.reshare).not.toBe('committed');
    expect(r.figures.finalEpoch).toBe(2);
    expect(r.figures.epochsHeld).toBe('2');
    expect(r.successes).toBe(r.requests);
  });

  it('scale: a 10-of-15 FROST key is generated and signs (67-of-100 in the full form)', async () => {
    const r = await runScenario(scenario('scale'), true);
    safe(r);
    expect(r.successes).toBe(1);
  });
});

/** The rogue-coordinator criteria: no attack signs, every signer refuses and audits it, honest requests sign. */
function policyHeld(r: ScenarioResult): void {
  expect(r.safety.invalidSignatures).toBe(0);
  expect(r.figures.attackSignatures).toBe(0);
  expect(r.figures.wrongOutcomes).toBe('none');
  expect(r.figures.honestSigned).toBe(3);
  expect(r.figures.refusalsReported).toBe(3 * (Number(r.figures.attacks) - 2)); // each forged or relayed request, by all three signers
  expect(r.figures.refusalsAudited).toBe(r.figures.refusalsReported);
}

describe('rogue-coordinator: the attacker holds the coordinator\'s identity', () => {
  it('in memory: over-cap, off-list, unapproved, replayed, expired, digest-swapped, old- and self-signed-policy requests never sign; every signer refuses and audits them', async () => {
    policyHeld(await runScenario(scenario('rogue-coordinator'), true));
  });

  it('over libp2p processes, the coordinator process replaced by the attacker\'s with its identity: the same', async () => {
    policyHeld(await runScenario(scenario('rogue-coordinator'), true, 'processes'));
  }, 120_000);
});

describe('simulation scenarios on real processes (short forms)', () => {
  it('crash-two over libp2p processes: SIGKILL two of five mid-run, every request succeeds', async () => {
    const r = await runScenario(scenario('crash-two'), true, 'processes');
    expect(r.safety.invalidSignatures).toBe(0);
    expect(r.successes).toBe(r.requests);
  }, 120_000);

  it('presign-crash over libp2p processes: pools consumed while nodes are SIGKILLed and restarted; no presignature used twice (audit logs on disk)', async () => {
    const r = await runScenario(scenario('presign-crash'), true, 'processes');
    expect(r.safety.invalidSignatures).toBe(0);
    expect(r.figures.presignaturesUsedTwice).toBe(0);
    expect(r.figures.presignedShares).toBeGreaterThan(20);
    expect(r.successes / r.requests).toBeGreaterThanOrEqual(0.95);
  }, 180_000);

  it('three-down over processes: refused with quorum_unavailable (not by the deadline), resumes after restarts', async () => {
    const r = await runScenario(scenario('three-down'), true, 'processes');
    expect(r.safety.invalidSignatures).toBe(0);
    expect(r.figures.refusedCause).toBe('quorum_unavailable');
    expect(r.records.slice(-5).every((x) => x.ok)).toBe(true);
  }, 120_000);
});
