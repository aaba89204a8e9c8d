/**
 * The required scenarios. Each has a seed (same seed, same faults) and a short form (seconds;
 * asserted in `npm test`) and a full form (`npm run sim -- <name>`).
 */
import type { KeyInfo, NodeId } from '../coordinator/service.ts';
import type { Scenario, SimContext } from './harness.ts';
import { ROGUE_COORDINATOR } from './rogue-coordinator-scenario.ts';

const size = (short: boolean, shortN: number, fullN: number) => (short ? shortN : fullN);

/** Signs `count` requests; returns how many signatures `node` took part in after its first accusation. */
async function signaturesAfterAccusation(ctx: SimContext, key: KeyInfo, count: number, node: NodeId): Promise<number> {
  const accusedBefore: boolean[] = [];
  const accused = () => ctx.events.some((e) => e.type === 'signer_failed' && e.node === node);
  const signed = await ctx.load(key, count, { during: (i) => void (accusedBefore[i] = accused()) });
  return signed.filter((r, i) => accusedBefore[i] && r.signers?.includes(node)).length;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'crash-two',
    description: '3-of-5, two nodes crash during continuous signing: every request succeeds by retrying with other quorums',
    seed: 1,
    backends: ['memory', 'processes'],
    cluster: () => ({ nodes: 5, engine: { attemptTimeoutMs: 800 } }),
    async run(ctx, figures) {
      const key = await ctx.createKey('eddsa-ed25519', 3);
      const n = size(ctx.short, 60, 1000);
      await ctx.load(key, n, {
        concurrency: 4,
        during: async (i) => {
          if (i === Math.floor(n * 0.2)) {
            await ctx.crash(4);
            ctx.mark('crash node 4');
          }
          if (i === Math.floor(n * 0.4)) {
            await ctx.crash(5);
            ctx.mark('crash node 5');
          }
        },
      });
      figures.nodesDown = 2;
    },
  },
  {
    name: 'three-down',
    description: '3-of-5 with three nodes down: quorum_unavailable within a second, no hang; signing resumes within seconds of their return',
    seed: 2,
    backends: ['memory', 'processes'],
    cluster: () => ({ nodes: 5 }),
    async run(ctx, figures) {
      const key = await ctx.createKey('schnorr-bip340', 3);
      await ctx.load(key, 5);
      for (const n of [3, 4, 5]) await ctx.crash(n);
      await ctx.settle();
      ctx.mark('crash nodes 3, 4, 5');
      const refused = await ctx.load(key, size(ctx.short, 5, 50));
      figures.refusedMaxMs = Math.max(...refused.map((r) => r.ms));
      figures.refusedCause = [...new Set(refused.map((r) => r.cause ?? 'ok'))].join(',');
      for (const n of [3, 4, 5]) await ctx.restart(n);
      ctx.mark('restart nodes 3, 4, 5');
      const back = Date.now();
      let first = await ctx.sign(key);
      while (!first.ok && Date.now() - back < 10_000) {
        await ctx.sleep(100);
        first = await ctx.sign(key);
      }
      figures.resumedAfterMs = Date.now() - back;
      await ctx.settle();
      await ctx.load(key, size(ctx.short, 5, 50));
    },
  },
  {
    name: 'partition',
    description: 'partition of 5 into {1,2} and {coordinator,3,4,5}: the majority side keeps signing; after healing, all five take part again',
    seed: 3,
    cluster: () => ({ nodes: 5, engine: { attemptTimeoutMs: 800 } }),
    async run(ctx, figures) {
      const key = await ctx.createKey('eddsa-ed25519', 3);
      ctx.faults.state.partition = [
        [1, 2],
        ['coordinator', 3, 4, 5],
      ];
      ctx.mark('partition {1,2} | {c,3,4,5}');
      const during = await ctx.load(key, size(ctx.short, 20, 300), { concurrency: 2 });
      figures.signersDuringPartition = [...new Set(during.flatMap((r) => r.signers ?? []))].sort().join(',');
      // A partition shorter than the liveness window is indistinguishable from slow nodes; hold
      // it until the coordinator has seen {1,2} go offline, as it would in any real outage.
      for (let waited = 0; (ctx.cluster.engine.isOnline(1 as NodeId) || ctx.cluster.engine.isOnline(2 as NodeId)) && waited < 10_000; waited += 100) await ctx.sleep(100);
      delete ctx.faults.state.partition;
      ctx.mark('heal');
      await ctx.cluster.settle(10_000);
      const seen = new Set<NodeId>();
      const after = await ctx.load(key, size(ctx.short, 30, 300), { concurrency: 2 });
      for (const r of after) for (const s of r.signers ?? []) seen.add(s);
      figures.signersAfterHeal = [...seen].sort().join(',');
    },
  },
  {
    name: 'drop-jitter',
    description: '10% message drop plus 50 ms jitter on every link: at least 99% of requests succeed within their deadline',
    seed: 4,
    cluster: () => ({ nodes: 3, engine: { attemptTimeoutMs: 600, livenessMs: 4000 } }),
    async run(ctx) {
      const key = await ctx.createKey('schnorr-bip340', 2);
      ctx.faults.state.drop = 0.1;
      ctx.faults.state.jitterMs = [0, 50];
      ctx.mark('10% drop + 0-50 ms jitter');
      await ctx.load(key, size(ctx.short, 40, 1000), { concurrency: 4, deadlineMs: 20_000 });
    },
  },
  {
    name: 'byzantine',
    description: 'a node sending wrong signature shares, then garbage, and equivocating in DKG: aborts name it, the coordinator stops choosing it, requests succeed',
    seed: 5,
    cluster: () => ({ nodes: 5, engine: { attemptTimeoutMs: 1000 } }),
    async run(ctx, figures) {
      const key = await ctx.createKey('eddsa-ed25519', 3);
      ctx.byzantine.add(2);
      ctx.faults.state.byzantine.set(2, 'wrong-signature-share');
      ctx.mark('node 2: wrong signature shares');
      // After the first abort that names node 2 it is left out (at first as one side of a dispute,
      // then as a suspect once a second node names it too).
      figures.signaturesWithNode2AfterAccused = await signaturesAfterAccusation(ctx, key, size(ctx.short, 20, 300), 2 as NodeId);
      ctx.faults.state.byzantine.set(2, 'equivocate');
      ctx.mark('node 2: equivocates in DKG');
      const dkg = await ctx.createKey('eddsa-ed25519', 3).then(
        () => 'completed',
        (e: Error) => e.message,
      );
      figures.dkgWithEquivocator = dkg.slice(0, 120);
      figures.onlineAfterDkg = ctx.cluster.engine.health().nodes.filter((x) => x.online).map((x) => x.id).join(',');
      figures.node2Suspected = ctx.cluster.engine.suspectedNodes().has(2) ? 'yes' : 'no';
      await ctx.cluster.settle(10_000);
      const honest = await ctx.createKey('eddsa-ed25519', 3, [1, 3, 4, 5]);
      await ctx.load(honest, size(ctx.short, 5, 50));
    },
  },
  {
    name: 'byzantine-ecdsa',
    description: 'DKLs23: a node tampering with its OT-extension messages, then sending garbage: aborts name it, honest nodes burn their OT setup with it, requests succeed without it',
    seed: 13,
    cluster: () => ({ nodes: 5, engine: { attemptTimeoutMs: 2000 } }),
    async run(ctx, figures) {
      const key = await ctx.createKey('ecdsa-secp256k1', 3);
      ctx.byzantine.add(2);
      ctx.faults.state.byzantine.set(2, 'tamper-ot');
      ctx.mark('node 2: tampered OT extension');
      figures.signaturesWithNode2AfterAccused = await signaturesAfterAccusation(ctx, key, size(ctx.short, 10, 150), 2 as NodeId);
      const vaults = ctx.cluster.vaults;
      const burners: number[] = [];
      for (const n of [1, 3, 4, 5]) if ((await vaults.get(n)?.burnedPairs(key.id))?.includes(2 as never)) burners.push(n);
      figures.nodesThatBurnedNode2 = burners.join(',') || 'none';
      ctx.faults.state.byzantine.set(2, 'garbage');
      ctx.mark('node 2: garbage');
      await ctx.load(key, size(ctx.short, 5, 50));
      figures.node2Suspected = ctx.cluster.engine.suspectedNodes().has(2) ? 'yes' : 'no';
    },
  },
  {
    name: 'false-accuser',
    description: 'an aggregator that answers every session it aggregates with an abort naming the honest signers: no honest node is excluded, requests succeed',
    seed: 9,
    cluster: () => ({ nodes: 5, engine: { attemptTimeoutMs: 1000 } }),
    async run(ctx, figures) {
      const key = await ctx.createKey('eddsa-ed25519', 3);
      ctx.byzantine.add(1);
      ctx.faults.state.byzantine.set(1, 'false-accuser');
      ctx.mark('node 1 lies as aggregator');
      await ctx.load(key, size(ctx.short, 20, 300));
      figures.suspected = [...ctx.cluster.engine.suspectedNodes().keys()].join(',') || 'none';
    },
  },
  {
    name: 'presign-crash',
    description: 'warm presignature pools of every scheme consumed under load while nodes are killed and restarted: no presignature used twice, every signature verifies',
    seed: 9,
    // Over processes the launcher's pools (16 per signing key) and SIGKILL; in memory these.
    backends: ['memory', 'processes'],
    cluster: () => ({ nodes: 5, engine: { attemptTimeoutMs: 800, presign: { size: 12, lowWater: 6 } } }),
    async run(ctx, figures) {
      if (ctx.backend === 'memory') ctx.cluster.recordAudits = true;
      const keys = [await ctx.createKey('ecdsa-secp256k1', 2, [1, 2, 3]), await ctx.createKey('eddsa-ed25519', 3), await ctx.createKey('schnorr-bip340', 2, [3, 4, 5])];
      const n = size(ctx.short, 24, 300);
      // Each key's pool is consumed while, in turn, one of its nodes dies and comes back.
      for (const victim of [2, 4, 3]) {
        ctx.mark(`kill node ${victim}`);
        await Promise.all(
          keys.map((key) =>
            ctx.load(key, n, {
              concurrency: 3,
              during: async (i) => {
                if (key === keys[0] && i === Math.floor(n / 3)) await ctx.crash(victim);
                if (key === keys[0] && i === Math.floor((2 * n) / 3)) {
                  await ctx.restart(victim);
                  ctx.mark(`node ${victim} back`);
                }
              },
            }),
          ),
        );
        await ctx.settle();
      }
      // Every use of a presignature is in the signers' audit logs, as a "started" entry synced
      // before the share is touched (the "completed" one may be lost to a kill); a session that
      // logged "aborted" did not use it. None may appear twice.
      const entries = (await ctx.auditEntries()).filter((a) => a.entry.event === 'sign' && a.entry.presignature);
      const aborted = new Set(entries.filter((a) => a.entry.outcome === 'aborted').map((a) => `${a.node}/${a.entry.session}`));
      const uses = entries.filter((a) => a.entry.outcome === 'started' && !aborted.has(`${a.node}/${a.entry.session}`)).map((a) => `${a.node}/${a.entry.keyId}/${a.entry.presignature}`);
      figures.presignedShares = uses.length;
      figures.presignaturesUsedTwice = uses.length - new Set(uses).size;
    },
  },
  {
    name: 'rolling-restarts',
    description: 'every node restarted, one at a time, during continuous signing: no share lost, at least 99% succeed',
    seed: 6,
    backends: ['memory', 'processes'],
    cluster: () => ({ nodes: 5, engine: { attemptTimeoutMs: 800 } }),
    async run(ctx, figures) {
      const key = await ctx.createKey('schnorr-bip340', 3);
      const memory = ctx.backend === 'memory';
      const snapshot = async () => {
        if (!memory) return '';
        const held = await Promise.all([...ctx.cluster.vaults].map(async ([n, v]) => `${n}:${Buffer.from((await v.loadEpochShare(key.id, 0))!).toString('hex')}`));
        return held.join(',');
      };
      const before = await snapshot();
      const per = size(ctx.short, 8, 100);
      for (const node of [1, 2, 3, 4, 5]) {
        await ctx.crash(node);
        ctx.mark(`restart node ${node}`);
        await ctx.load(key, per, { concurrency: 2 });
        await ctx.restart(node);
        await ctx.settle();
        await ctx.load(key, per, { concurrency: 2 });
      }
      // In memory the vaults are compared; over processes every node has signed again after its restart (below).
      figures.sharesIntact = memory ? ((await snapshot()) === before ? 'yes' : 'no') : 'checked by signing';
      if (!memory) {
        // Each node, with two others held back, must still sign: its sealed share survived SIGKILL.
        for (const node of [1, 2, 3, 4, 5]) {
          const others = [1, 2, 3, 4, 5].filter((x) => x !== node).slice(0, 2);
          for (const o of others) await ctx.crash(o);
          await ctx.settle();
          const r = await ctx.sign(key);
          if (!r.ok || !r.signers?.includes(node)) figures.sharesIntact = `node ${node} did not sign`;
          for (const o of others) await ctx.restart(o);
          await ctx.settle();
        }
      }
    },
  },
  {
    name: 'lifecycle-crash',
    description: 'a node killed in the middle of a refresh and of a reshare: the key still signs afterwards and no epoch is mixed',
    seed: 8,
    cluster: () => ({ nodes: 5, engine: { attemptTimeoutMs: 800 } }),
    async run(ctx, figures) {
      const key = await ctx.createKey('schnorr-bip340', 2, [1, 2, 3]);
      // Refresh: node 3 dies as soon as its next-epoch share is staged, before the commit.
      ctx.faults.state.onSend = (from, m) => {
        if (from === 3 && m.type === 'refresh_done') {
          ctx.cluster.crash(3);
          ctx.mark('node 3 killed mid-refresh');
        }
      };
      const refresh = await ctx.cluster.engine.refreshKey(key.id, { deadline: Date.now() + 3000, requestId: 'sim', emit: () => undefined }).then(
        () => 'committed',
        (e: Error) => e.message.slice(0, 60),
      );
      figures.refresh = refresh;
      await ctx.load(key, size(ctx.short, 6, 60)); // epoch 0 still signs with nodes 1, 2
      await ctx.restart(3);
      await ctx.settle();
      figures.epochAfterRefreshCrash = (await ctx.cluster.engine.getKey(key.id))!.epoch ?? 0;
      // Reshare to {2,3,4,5}: node 4 dies while staging; the old committee keeps signing.
      ctx.faults.state.onSend = (from, m) => {
        if (from === 4 && m.type === 'reshare_done') {
          ctx.cluster.crash(4);
          ctx.mark('node 4 killed mid-reshare');
        }
      };
      figures.reshare = await ctx.cluster.engine.reshareKey(key.id, { nodes: [2, 3, 4, 5], threshold: 3 }, { deadline: Date.now() + 3000, requestId: 'sim', emit: () => undefined }).then(
        () => 'committed',
        (e: Error) => e.message.slice(0, 60),
      );
      delete ctx.faults.state.onSend;
      await ctx.load(key, size(ctx.short, 6, 60));
      await ctx.restart(4);
      await ctx.settle();
      // A clean refresh and reshare afterwards still work, and the new committee signs.
      await ctx.cluster.engine.refreshKey(key.id, { deadline: Date.now() + 20_000, requestId: 'sim', emit: () => undefined });
      const moved = await ctx.cluster.engine.reshareKey(key.id, { nodes: [2, 3, 4, 5], threshold: 3 }, { deadline: Date.now() + 20_000, requestId: 'sim', emit: () => undefined });
      figures.finalEpoch = moved.epoch ?? 0;
      await ctx.load(moved, size(ctx.short, 6, 60));
      const epochs = new Set(await Promise.all([2, 3, 4, 5].map(async (n) => (await ctx.cluster.vaults.get(n)!.inspect(key.id))?.epoch)));
      figures.epochsHeld = [...epochs].join(',');
    },
  },
  {
    name: 'scale',
    description: 'a large FROST key generated and used to sign in the in-process network (67-of-100 in the full form)',
    seed: 7,
    cluster: (short) => ({ nodes: short ? 15 : 100, engine: { attemptTimeoutMs: 600_000, keygenTimeoutMs: 1_800_000, livenessMs: 600_000, heartbeatMs: 5_000 } }),
    async run(ctx, figures) {
      const t = ctx.short ? 10 : 67;
      const t0 = Date.now();
      const key = await ctx.createKey('schnorr-bip340', t);
      figures.keygenMs = Date.now() - t0;
      const signed = await ctx.sign(key, 1_800_000);
      figures.signMs = signed.ms;
      figures.size = `${t}-of-${ctx.short ? 15 : 100}`;
    },
  },
  ROGUE_COORDINATOR,
];
