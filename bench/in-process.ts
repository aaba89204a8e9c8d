/**
 * The in-process cost of signing with a scheme, through the same adapters the nodes use, for
 * comparison with the network path (bench/cluster.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Scheme } from '../protocol/schemes/index.ts';
import { schemeOf } from '../protocol/schemes/index.ts';
import { inProcessAuth, outputsOrThrow, runParties } from '../protocol/testing/driver.ts';
import { partyId, sessionId } from '../protocol/core/ids.ts';
import { Party } from '../protocol/core/party.ts';
import { quantile } from './stats.ts';

const rng = (n: number) => new Uint8Array(randomBytes(n));

/** Median wall time (ms) of one t-of-n signing session with every party in this process. */
export async function inProcessSign(scheme: Scheme, t: number, n: number, runs: number): Promise<number> {
  const adapter = schemeOf(scheme).adapter;
  if (!adapter) return NaN;
  const ids = Array.from({ length: n }, (_, i) => partyId(i + 1));
  const auth = inProcessAuth(ids);
  const session = sessionId(rng(32));
  const dkg = runParties(ids.map((self) => new Party({ protocol: adapter.dkgProtocol, session, self, parties: ids, rng, auth: auth.get(self)! }, adapter.dkg(t))));
  const shares = outputsOrThrow(dkg);
  const signers = ids.slice(0, t);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const message = scheme === 'eddsa-ed25519' ? rng(64) : createHash('sha256').update(rng(16)).digest();
    const s = sessionId(rng(32));
    const t0 = performance.now();
    const out = runParties(
      signers.map((self) => {
        const share = shares.get(self)!;
        return new Party({ protocol: adapter.signProtocol(share), session: s, self, parties: signers, rng, auth: auth.get(self)! }, adapter.sign(share, message, { context: new Uint8Array() }));
      }),
    );
    samples.push(performance.now() - t0);
    outputsOrThrow(out);
  }
  return quantile(samples.sort((a, b) => a - b), 0.5);
}
