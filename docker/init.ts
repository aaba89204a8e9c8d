/**
 * The docker-compose `init` service: on first start, every member's config, identity key
 * (sealed by that member's provider) and the manifest, into the mounted volumes; later starts
 * find the layout and change nothing. One node (MPC_PKCS11_NODE, default node-3) seals with
 * the pkcs11 provider against a SoftHSM2 token kept in its own volume; the others use `local`.
 *
 * MPC_NETWORK=bridge (default): peers reach each other by service name, the API listens on
 * 0.0.0.0 inside its container. MPC_NETWORK=host: everything on 127.0.0.1 with distinct ports
 * from MPC_PORT (the test override).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initCluster } from '../coordinator/cluster-init.ts';

const DATA = process.env.MPC_DATA ?? '/data';
const host = process.env.MPC_NETWORK === 'host';
const pkcs11Node = process.env.MPC_PKCS11_NODE ?? 'node-3';
const SOFTHSM = process.env.SOFTHSM2_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';

function softhsmToken(dir: string): void {
  const tokens = join(dir, 'softhsm');
  const conf = join(dir, 'softhsm2.conf');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  if (!existsSync(conf)) writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`, { mode: 0o600 });
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const slots = execFileSync('softhsm2-util', ['--show-slots'], { env, encoding: 'utf8' });
  if (slots.includes(`Label:            ${pkcs11Node}`)) return;
  const pin = process.env.MPC_PKCS11_PIN;
  const soPin = process.env.MPC_PKCS11_SO_PIN;
  if (!pin || !soPin) throw new Error('MPC_PKCS11_PIN and MPC_PKCS11_SO_PIN must be set to create the SoftHSM2 token');
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', pkcs11Node, '--pin', pin, '--so-pin', soPin], { env, stdio: 'ignore' });
  process.env.SOFTHSM2_CONF = conf;
}

if (existsSync(join(DATA, pkcs11Node))) softhsmToken(join(DATA, pkcs11Node));
const layout = await initCluster({
  dataDir: DATA,
  nodes: Number(process.env.MPC_NODES ?? 5),
  threshold: Number(process.env.MPC_THRESHOLD ?? 3),
  port: Number(process.env.MPC_PORT ?? 7700),
  apiToken: process.env.MPC_API_TOKEN,
  presignatures: { size: Number(process.env.MPC_PRESIGNATURES ?? 16) },
  hostOf: host ? () => '127.0.0.1' : (id) => id,
  httpHost: host ? '127.0.0.1' : '0.0.0.0',
  providerOf: (id, dir) => (id === pkcs11Node ? { type: 'pkcs11', module: SOFTHSM, tokenLabel: pkcs11Node, pinEnv: 'MPC_PKCS11_PIN' } : { type: 'local', keyFile: join(dir, 'kek.hex') }),
});
console.log(JSON.stringify({ event: 'cluster_initialised', nodes: layout.nodes, threshold: layout.threshold, members: layout.members.map((m) => m.address) }));
// The token stays in the coordinator's volume: never in this log, never where the nodes can read it.
if (layout.generatedToken) console.log(`API token generated; read it with: docker compose exec coordinator cat ${layout.tokenFile}`);
