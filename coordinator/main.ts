/**
 * The coordinator process: the engine that drives the nodes over libp2p, behind the HTTP +
 * WebSocket API. Its identity key (sealed by its provider) signs every request it sends, and
 * the nodes check those signatures against the manifest.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createIdentity } from '../cluster/identity.ts';
import { joinCluster } from '../cluster/join.ts';
import { createLogger, logTo } from '../cluster/log.ts';
import { createProtector } from '../cluster/providers/index.ts';
import { COORDINATOR, nodeNumber } from '../cluster/transport/manifest.ts';
import { partyId } from '../protocol/core/ids.ts';
import type { NodeReport } from '../cluster/control.ts';
import { ALL_SCOPES, createApiServer } from './api/server.ts';
import { IdempotencyStore } from './api/idempotency.ts';
import { checkTokenStrength, loadTokensFile, type ApiToken } from './api/tokens.ts';
import { loadCoordinatorConfig, type CoordinatorConfig } from './config.ts';
import { policyFile } from './policy-file.ts';
import { Engine } from './engine/engine.ts';
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
  const { identity, manifest, transport, link } = await joinCluster({
    self: COORDINATOR,
    protector,
    identityFile: coordinatorIdentityFile(config.dataDir),
    manifestFile: config.manifest,
    listen: config.listen,
    ...(config.mldsaIdentity ? { mldsaFile: join(config.dataDir, 'mldsa-identity.json') } : {}),
    log,
  });
  const nodes = [...manifest.members.keys()].map(nodeNumber).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
  const registry = await KeyRegistry.open(config.dataDir);
  const metrics = new CoordinatorMetrics();
  const engine = new Engine({
    observe: {
      invalidSignature: () => metrics.invalidSignatures.inc(),
      retry: () => metrics.retries.inc(),
      blamed: (node) => metrics.blamed.inc({ node: String(node) }),
      signed: (scheme, outcome, seconds) => metrics.observeSign(scheme, outcome, seconds),
      presign: metrics.presignObserver,
    },
    presign: config.presignatures,
    nodes,
    registry,
    attemptTimeoutMs: config.attemptTimeoutMs,
    maxSessions: config.maxSessions,
    ...(config.defaultThreshold ? { defaultThreshold: config.defaultThreshold } : {}),
    send: (node, message) => link.send({ role: 'node', id: partyId(node) }, message),
    ...(manifest.administrators ? { administrators: manifest.administrators } : {}),
    policyStore: policyFile(config.dataDir),
    log: logTo(log),
  });
  link.onMessage((from, message) => {
    if (from.role === 'node') engine.onReport(from.id, message as NodeReport);
  });
  await engine.start();
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
    network: config.bitcoinNetwork,
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
      await registry.close();
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop().then(() => process.exit(0));
    });
  }
  return { stop, port: api.port };
}
