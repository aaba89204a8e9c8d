/**
 * The coordinator process: the engine that drives the nodes over libp2p, behind the HTTP +
 * WebSocket API. Its identity key (sealed by its provider) signs every request it sends, and
 * the nodes check those signatures against the manifest.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openEnvelope, ReplayGuard, sealEnvelope } from '../cluster/envelope.ts';
import { createIdentity, loadIdentity, manifestPqVerifier, manifestVerifier } from '../cluster/identity.ts';
import { MlDsaSigner } from '../cluster/providers/mldsa.ts';
import { createLogger, logTo } from '../cluster/log.ts';
import { createProtector } from '../cluster/providers/index.ts';
import { Libp2pTransport } from '../cluster/transport/libp2p.ts';
import { COORDINATOR, loadManifest, nodeMember, nodeNumber } from '../cluster/transport/manifest.ts';
import type { NodeReport } from '../cluster/control.ts';
import { ALL_SCOPES, createApiServer } from './api/server.ts';
import { IdempotencyStore } from './api/idempotency.ts';
import { checkTokenStrength, loadTokensFile, type ApiToken } from './api/tokens.ts';
import { loadCoordinatorConfig, type CoordinatorConfig } from './config.ts';
import { Engine } from './engine.ts';
import { CoordinatorMetrics } from './metrics.ts';
import { KeyRegistry } from './registry.ts';

export const coordinatorIdentityFile = (dataDir: string) => join(dataDir, 'identity.json');

export async function initCoordinatorIdentity(configFile: string): Promise<string> {
  const config = await loadCoordinatorConfig(configFile);
  const identity = await createIdentity(coordinatorIdentityFile(config.dataDir), COORDINATOR, await createProtector(config.provider));
  return Buffer.from(identity.publicKey).toString('hex');
}

/**
 * The API's credentials: the scoped, hashed tokens of `tokensFile`, plus one all-scopes token
 * from MPC_API_TOKEN or `tokenFile` when given. At least one token must exist.
 */
async function apiTokens(config: CoordinatorConfig): Promise<ApiToken[]> {
  const tokens: ApiToken[] = config.tokensFile ? await loadTokensFile(config.tokensFile) : [];
  const fromEnv = process.env.MPC_API_TOKEN;
  if (fromEnv) tokens.push({ name: 'MPC_API_TOKEN', token: checkTokenStrength(fromEnv, 'MPC_API_TOKEN'), scopes: ALL_SCOPES });
  else if (config.tokenFile) tokens.push({ name: 'tokenFile', token: checkTokenStrength((await readFile(config.tokenFile, 'utf8')).trim(), config.tokenFile), scopes: ALL_SCOPES });
  if (!tokens.length) throw new Error('no API token: set MPC_API_TOKEN, or tokenFile / tokensFile in the coordinator config');
  return tokens;
}

export async function startCoordinator(configFile: string): Promise<{ stop(): Promise<void>; port: number }> {
  const config = await loadCoordinatorConfig(configFile);
  const log = createLogger(COORDINATOR);
  const protector = await createProtector(config.provider);
  const identity = await loadIdentity(coordinatorIdentityFile(config.dataDir), COORDINATOR, protector);
  const manifest = await loadManifest(config.manifest);
  const verify = manifestVerifier(manifest);
  const verifyPq = manifestPqVerifier(manifest);
  const pq = config.mldsaIdentity ? await MlDsaSigner.load(join(config.dataDir, 'mldsa-identity.json'), COORDINATOR, protector) : undefined;
  const pqSign = pq ? (input: Uint8Array) => pq.signSync(input) : undefined;
  const nodes = [...manifest.members.keys()].map(nodeNumber).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
  const transport = await Libp2pTransport.create({
    self: COORDINATOR,
    manifest,
    identitySeed: identity.seed,
    listen: config.listen,
    onRefused: (peer, reason) => log.warn({ event: 'peer_refused', peer, reason }),
  });
  const registry = await KeyRegistry.open(config.dataDir);
  const metrics = new CoordinatorMetrics();
  const engine = new Engine({
    observe: {
      invalidSignature: () => metrics.invalidSignatures.inc(),
      retry: () => metrics.retries.inc(),
      blamed: (node) => metrics.blamed.inc({ node: String(node) }),
    },
    nodes,
    registry,
    attemptTimeoutMs: config.attemptTimeoutMs,
    maxSessions: config.maxSessions,
    ...(config.defaultThreshold ? { defaultThreshold: config.defaultThreshold } : {}),
    signRequest: identity.sign,
    send: (node, message) => transport.send(nodeMember(node), sealEnvelope(COORDINATOR, nodeMember(node), message, identity.sign, pqSign)),
    log: logTo(log),
  });
  const guard = new ReplayGuard();
  transport.onFrame((from, frame) => {
    try {
      const { message, digest } = openEnvelope(frame, from, COORDINATOR, verify, verifyPq);
      const node = nodeNumber(from);
      if (node === undefined || !guard.fresh(digest)) return;
      engine.onReport(node, message as NodeReport);
    } catch (e) {
      log.warn({ event: 'envelope_refused', from, error: (e as Error).message });
    }
  });
  engine.start();
  const api = await createApiServer({
    service: metrics.instrument(engine),
    metrics: () => metrics.text(engine),
    ready: () => engine.health().nodes.filter((n) => n.online).length >= 2,
    tokens: await apiTokens(config),
    idempotency: await IdempotencyStore.open(config.dataDir),
    host: config.http.host,
    ...(config.http.tls ? { tls: { cert: await readFile(config.http.tls.certFile), key: await readFile(config.http.tls.keyFile) } } : {}),
    allowInsecureHttp: config.http.allowInsecure,
    port: config.http.port,
    log: logTo(log),
  });
  log.info({ event: 'coordinator_started', http: `${config.http.host}:${api.port}`, nodes });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info({ event: 'coordinator_stopping', activeSessions: engine.activeSessions });
      await api.close();
      engine.stop();
      await transport.close();
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop().then(() => process.exit(0));
    });
  }
  return { stop, port: api.port };
}
