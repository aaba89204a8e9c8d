/**
 * The signer node daemon: loads its config, unseals its identity with its provider, opens the
 * sealed share store and the audit log, joins the cluster over libp2p, and runs sessions for
 * the coordinator until SIGTERM.
 */
import { randomBytes, verify } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { partyId } from '../protocol/core/ids.ts';
import { AuditLog, verifyAuditLog, type AuditVerdict } from './audit.ts';
import { createBackup, openBackup } from './backup.ts';
import { loadNodeConfig, protocolWorkerCount } from './config.ts';
import { createAtomically, writeAtomically } from '../cluster/atomic-file.ts';
import { ed25519PublicKey } from '../protocol/curves/curve25519-keys.ts';
import { createIdentity, identityPublicKey, loadIdentity, resealIdentity } from '../cluster/identity.ts';
import { joinCluster } from '../cluster/join.ts';
import { memberOf } from '../cluster/link.ts';
import { createLogger, logTo } from '../cluster/log.ts';
import { createProtector } from '../cluster/providers/index.ts';
import { startOpsServer, type NodeOps } from './ops-server.ts';
import { recordBackup } from './backup-status.ts';
import { NodeRuntime } from './runtime.ts';
import { ShareStore } from './store/share-store.ts';
import { nodeMember, nodeNumber } from '../cluster/transport/manifest.ts';

export const identityFile = (dataDir: string) => join(dataDir, 'identity.json');
export const auditFile = (dataDir: string) => join(dataDir, 'audit.log');
export const mldsaFile = (dataDir: string) => join(dataDir, 'mldsa-identity.json');

/** Creates the node's identity (sealed by its provider) and returns its public key as hex. */
export async function initNodeIdentity(configFile: string): Promise<string> {
  const config = await loadNodeConfig(configFile);
  const protector = await createProtector(config.provider);
  const identity = await createIdentity(identityFile(config.dataDir), nodeMember(config.id), protector);
  return Buffer.from(identity.publicKey).toString('hex');
}

export async function verifyNodeAudit(configFile: string): Promise<AuditVerdict> {
  const config = await loadNodeConfig(configFile);
  const raw = await identityPublicKey(identityFile(config.dataDir));
  const key = ed25519PublicKey(raw);
  return verifyAuditLog(auditFile(config.dataDir), (m, s) => verify(null, m, key, s));
}

/**
 * Provider key rotation as one command: re-wraps every data key of the store and the identity
 * seed under the provider described in `providerFile`, then points the node's config at it.
 * Safe to re-run after an interruption (records already moved are skipped). Run it with the
 * node stopped: the store is opened exclusively.
 */
export async function rewrapNode(configFile: string, providerFile: string): Promise<{ dataKeys: number }> {
  const config = await loadNodeConfig(configFile);
  const self = nodeMember(config.id);
  const next = JSON.parse(await readFile(providerFile, 'utf8')) as { type: string } & Record<string, unknown>;
  const from = await createProtector(config.provider);
  const to = await createProtector(next);
  const store = await ShareStore.open({ dataDir: config.dataDir, nodeId: self, protector: from });
  let dataKeys: number;
  try {
    dataKeys = await store.rewrap(to);
  } finally {
    await store.close();
  }
  await resealIdentity(identityFile(config.dataDir), self, from, to);
  const raw = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  await writeAtomically(configFile, JSON.stringify({ ...raw, provider: next }, null, 2) + '\n');
  return { dataKeys };
}

/** Writes an encrypted backup of the node (stopped) and returns the M-of-N custodian shares. */
export async function backupNode(configFile: string, outFile: string, m = 3, n = 5): Promise<string[]> {
  const config = await loadNodeConfig(configFile);
  const self = nodeMember(config.id);
  const protector = await createProtector(config.provider);
  const identity = await loadIdentity(identityFile(config.dataDir), self, protector);
  const store = await ShareStore.open({ dataDir: config.dataDir, nodeId: self, protector });
  try {
    const started = performance.now();
    const { file, custodianShares } = await createBackup(store, self, identity.seed, m, n);
    await createAtomically(outFile, file);
    await recordBackup(config.dataDir, { completedAt: Math.floor(Date.now() / 1000), durationSeconds: (performance.now() - started) / 1000 });
    return custodianShares;
  } finally {
    identity.seed.fill(0);
    await store.close();
  }
}

/**
 * Restores a backup onto this node's (fresh) data directory, sealing the identity and every
 * share under this node's own provider. Refuses a data directory that already has an identity.
 */
export async function restoreNode(configFile: string, inFile: string, custodianShares: readonly string[]): Promise<{ keys: number }> {
  const config = await loadNodeConfig(configFile);
  const self = nodeMember(config.id);
  const opened = openBackup(await readFile(inFile), custodianShares);
  if (opened.member !== self) throw new Error(`the backup is of ${opened.member}, this config is ${self}`);
  const protector = await createProtector(config.provider);
  await mkdir(config.dataDir, { recursive: true });
  await createIdentity(identityFile(config.dataDir), self, protector, opened.identitySeed);
  opened.identitySeed.fill(0);
  const store = await ShareStore.open({ dataDir: config.dataDir, nodeId: self, protector });
  try {
    for (const k of opened.keys) {
      await store.saveShare(k, k.share, k.epoch);
      k.share.fill(0);
    }
  } finally {
    await store.close();
  }
  return { keys: opened.keys.length };
}

export async function startNode(configFile: string): Promise<{ stop(): Promise<void> }> {
  const config = await loadNodeConfig(configFile);
  const self = nodeMember(config.id);
  const log = createLogger(self);
  const protector = await createProtector(config.provider);
  const { identity, manifest, verify, transport, link } = await joinCluster({
    self,
    protector,
    identityFile: identityFile(config.dataDir),
    manifestFile: config.manifest,
    listen: config.listen,
    ...(config.mldsaIdentity ? { mldsaFile: mldsaFile(config.dataDir) } : {}),
    log,
  });
  const store = await ShareStore.open({ dataDir: config.dataDir, nodeId: self, protector });
  const audit = await AuditLog.open(auditFile(config.dataDir), identity.sign);
  // Assigned once the ops server is up; the runtime's metric hooks read it when they fire.
  let ops: NodeOps | undefined;
  const runtime = new NodeRuntime({
    self: partyId(config.id),
    members: [...manifest.members.keys()].flatMap((m) => { const n = nodeNumber(m); return n === undefined ? [] : [partyId(n)]; }),
    auth: { sign: identity.sign, verify: (from, m, s) => verify(nodeMember(from), m, s) },
    vault: store,
    policy: store.policy,
    ...(manifest.administrators ? { administrators: manifest.administrators } : {}),
    vendor: protector.name,
    rng: (n) => new Uint8Array(randomBytes(n)),
    audit: async (entry) => {
      await audit.append(entry).catch((e: unknown) => {
        ops?.auditWriteFailures.inc();
        log.error({ event: 'audit_write_failed', entry: entry.event, outcome: entry.outcome, keyId: entry.keyId, session: entry.session, error: e instanceof Error ? e.message : String(e) });
        throw e;
      });
      if (entry.event === 'policy' && (entry.outcome === 'allowed' || entry.outcome === 'refused') && entry.keyId) ops?.policyDecisions.inc({ decision: entry.outcome, rule: entry.rule ?? '' });
    },
    onSessionEnd: (outcome) => ops?.sessions.inc({ outcome }),
    sessionTimeoutMs: config.sessionTimeoutMs,
    protocolWorkers: protocolWorkerCount(config.protocolWorkers),
    log: logTo(log),
    send: (to, message) => {
      link.send(to, message).catch((e: unknown) => log.warn({ event: 'send_failed', to: memberOf(to), error: (e as Error).message }));
    },
  });
  link.onMessage((from, message) => void runtime.handle(from, message));
  ops = config.http
    ? await startOpsServer({ host: config.http.host, port: config.http.port, runtime, store, transport, minPeers: 2, dataDir: config.dataDir })
    : undefined;
  log.info({ event: 'node_started', listen: config.listen, protocolWorkers: protocolWorkerCount(config.protocolWorkers), ...(ops ? { ops: ops.port } : {}), keys: (await store.listKeys()).length });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info({ event: 'node_stopping', activeSessions: runtime.activeSessions });
      runtime.close();
      await ops?.close();
      await transport.close();
      await audit.close();
      await store.close();
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop().then(() => process.exit(0));
    });
  }
  return { stop };
}
