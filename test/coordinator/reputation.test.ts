/**
 * How the coordinator chooses signers from what it remembers: recent failures push a node back,
 * and they are forgotten, so a node that failed once is not starved while the others sign.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Reputation } from '../../coordinator/engine/reputation.ts';
import type { KeyInfo, NodeId } from '../../coordinator/service.ts';

const key = { id: 'k', scheme: 'eddsa-ed25519', threshold: 2, nodes: [1, 2, 3], publicKey: '00', chainCode: '00', createdAt: '' } as unknown as KeyInfo;
const online = [1, 2, 3] as NodeId[];

/** How often each node is chosen over `rounds` quorums with nothing failed in the request. */
function chosen(reputation: Reputation, rounds = 200): Map<NodeId, number> {
  const counts = new Map<NodeId, number>();
  for (let i = 0; i < rounds; i++) for (const n of reputation.pickQuorum(key, online, new Set())) counts.set(n, (counts.get(n) ?? 0) + 1);
  return counts;
}

describe('quorum choice', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['Date'] }));
  afterEach(() => vi.useRealTimers());

  it('leaves out a node that just failed, and tries it again a minute later while the others keep signing', () => {
    const reputation = new Reputation({ suspectMs: 600_000 });
    reputation.noteFailure(3 as NodeId);
    vi.advanceTimersByTime(30_000);
    expect(chosen(reputation).get(3 as NodeId) ?? 0).toBe(0);
    vi.advanceTimersByTime(31_000);
    // Random ties again: each node is in about two thirds of the quorums.
    expect(chosen(reputation).get(3 as NodeId)).toBeGreaterThan(80);
    expect(reputation.failureWeight(3 as NodeId)).toBe(0);
  });

  it('keeps a suspect out for the whole suspicion window, not just a minute', () => {
    const reputation = new Reputation({ suspectMs: 600_000 });
    reputation.blame([3 as NodeId], 1 as NodeId);
    reputation.blame([3 as NodeId], 2 as NodeId);
    vi.advanceTimersByTime(120_000);
    expect(chosen(reputation).get(3 as NodeId) ?? 0).toBe(0);
    vi.advanceTimersByTime(481_000);
    expect(chosen(reputation).get(3 as NodeId)).toBeGreaterThan(80);
  });
});
