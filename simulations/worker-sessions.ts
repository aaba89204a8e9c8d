/**
 * One signing session whose every party runs on a pool of protocol workers
 * (node/session/worker-pool.ts), the parties' messages relayed between them here: the pool
 * tests and the worker benchmark drive the workers without a network.
 */
import type { PartyId, SessionId } from '../protocol/core/ids.ts';
import type { Scheme } from '../protocol/schemes/index.ts';
import type { ProtocolWorkers, RemoteSession } from '../node/session/worker-pool.ts';

/**
 * Signs `message` with the encoded shares of `shares` (one per party; the bytes move to the
 * workers), and resolves with every party's output once all are done.
 */
export function signOnWorkers(pool: ProtocolWorkers, scheme: Scheme, shares: ReadonlyMap<PartyId, Uint8Array>, message: Uint8Array, id: SessionId): Promise<unknown[]> {
  const parties = [...shares.keys()].sort((a, b) => a - b);
  const plan = { childKey: new Uint8Array(), publicKey: new Uint8Array() };
  const pairwise = scheme === 'ecdsa-secp256k1';
  const sessions = new Map<PartyId, RemoteSession>();
  for (const p of parties) {
    // Each party stands for another node, with its own retirements (a key per party on this one pool).
    const s = pool.start({ id, keyId: `party-${p}`, epoch: 0, self: p, parties, scheme, share: shares.get(p)!, plan, job: { kind: 'sign', message }, context: new Uint8Array(4), ...(pairwise ? { retired: [] } : {}) });
    if (!s) throw new Error('no retirement slot free');
    sessions.set(p, s);
  }
  const outputs: unknown[] = [];
  return new Promise((resolve, reject) => {
    for (const [p, s] of sessions) {
      s.onFailure((e) => reject(new Error(e)));
      s.onStep((step) => {
        for (const m of step.out) for (const q of parties) if (q !== p && (m.kind !== 'direct' || m.to === q)) sessions.get(q)!.receive(m);
        if (step.state.status === 'aborted') reject(new Error(`${step.state.reason}: ${step.state.message}`));
        if (step.state.status === 'done') outputs.push(step.state.output);
        if (outputs.length === parties.length) resolve(outputs);
      });
    }
  });
}
