#!/usr/bin/env node
/**
 * `mpc`: the operator's command line.
 *
 *   mpc start-node --config <node.json>            run a signer node
 *   mpc start-coordinator --config <coord.json>    run the coordinator (API + engine)
 *   mpc init-node --config <node.json>             create a node's identity key (sealed) and print its public key
 *   mpc init-coordinator --config <coord.json>     the same for the coordinator
 *   mpc keys create --scheme S [--threshold T] [--nodes 1,2,3]
 *   mpc keys list | mpc keys get <id>
 *   mpc key disable|enable|refresh|destroy <id>      key lifecycle (admin token)
 *   mpc key repair <id> --node <n>                   rebuild node n's lost share
 *   mpc key reshare <id> --nodes 1,2,4 --threshold 2 move the key to a new committee
 *   mpc sign <keyId> <hex message> [--path m/0/1]
 *   mpc audit verify --config <node.json>          check a node's audit chain
 *   mpc rewrap --config <node.json> --to <p.json>  move every data key to a new provider key (node stopped)
 *   mpc backup create --config <node.json> --out <file> [--threshold 3 --custodians 5]
 *   mpc backup restore --config <node.json> --in <file> --share <s1> --share <s2> --share <s3>
 *   mpc health
 *   mpc token create --file <tokens.json> --name <name> --scopes sign,keys:read
 *                                                  add a scoped API token (its SHA-256 only is stored; the token is printed once)
 *
 * API commands read MPC_URL (default http://127.0.0.1:${MPC_PORT:-7700}) and MPC_API_TOKEN
 * (or --token-file, default .mpc/dev/coordinator/api-token, then .mpc/dev/api-token for older clusters).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SCHEMES } from '../protocol/schemes/index.ts';
import { createToken } from '../coordinator/api/tokens.ts';

const USAGE = `usage: mpc <start-node|start-coordinator|init-node|init-coordinator|keys|key|sign|health|audit|rewrap|backup|token> [options]; see bin/mpc.ts`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start-node': {
      const { startNode } = await import('../node/main.ts');
      await startNode(configArg(rest));
      return -1; // keeps running
    }
    case 'start-coordinator': {
      const { startCoordinator } = await import('../coordinator/main.ts');
      await startCoordinator(configArg(rest));
      return -1;
    }
    case 'init-coordinator': {
      const { initCoordinatorIdentity } = await import('../coordinator/main.ts');
      console.log(await initCoordinatorIdentity(configArg(rest)));
      return 0;
    }
    case 'init-node': {
      const { initNodeIdentity } = await import('../node/main.ts');
      const publicKey = await initNodeIdentity(configArg(rest));
      console.log(publicKey);
      return 0;
    }
    case 'rewrap': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string' }, to: { type: 'string' } } });
      if (!values.config || !values.to) return usage('rewrap --config <node.json> --to <provider.json>');
      const { rewrapNode } = await import('../node/main.ts');
      console.log(JSON.stringify(await rewrapNode(values.config, values.to)));
      return 0;
    }
    case 'backup': {
      const [sub, ...args] = rest;
      const { values } = parseArgs({
        args,
        options: { config: { type: 'string' }, out: { type: 'string' }, in: { type: 'string' }, custodians: { type: 'string', default: '5' }, threshold: { type: 'string', default: '3' }, share: { type: 'string', multiple: true } },
      });
      const main = await import('../node/main.ts');
      if (sub === 'create' && values.config && values.out) {
        const shares = await main.backupNode(values.config, values.out, Number(values.threshold), Number(values.custodians));
        console.log(`backup written to ${values.out}; give one custodian share to each custodian (any ${values.threshold} restore it):`);
        for (const s of shares) console.log(s);
        return 0;
      }
      if (sub === 'restore' && values.config && values.in && values.share) {
        console.log(JSON.stringify(await main.restoreNode(values.config, values.in, values.share)));
        return 0;
      }
      return usage('backup create --config <node.json> --out <file> [--threshold 3 --custodians 5] | backup restore --config <node.json> --in <file> --share s1 --share s2 --share s3');
    }
    case 'audit': {
      if (rest[0] !== 'verify') break;
      const { verifyNodeAudit } = await import('../node/main.ts');
      const verdict = await verifyNodeAudit(configArg(rest.slice(1)));
      console.log(JSON.stringify(verdict));
      return verdict.ok ? 0 : 1;
    }
    case 'health':
      return api('GET', '/v1/health', undefined, rest);
    case 'keys': {
      const [sub, ...args] = rest;
      if (sub === 'list') return api('GET', '/v1/keys', undefined, args);
      if (sub === 'get' && args[0]) return api('GET', `/v1/keys/${encodeURIComponent(args[0])}`, undefined, args.slice(1));
      if (sub === 'create') {
        const { values } = parseArgs({ args, options: { scheme: { type: 'string' }, threshold: { type: 'string' }, nodes: { type: 'string' }, 'token-file': { type: 'string' } } });
        if (!values.scheme) return usage(`keys create needs --scheme ${SCHEMES.join('|')}`);
        const body: Record<string, unknown> = { scheme: values.scheme };
        if (values.threshold) body.threshold = Number(values.threshold);
        if (values.nodes) body.nodes = values.nodes.split(',').map(Number);
        return api('POST', '/v1/keys', body, args);
      }
      break;
    }
    case 'key': {
      // Lifecycle: mpc key disable|enable|refresh|destroy <id>, mpc key repair <id> --node N
      const [action, id, ...args] = rest;
      if (!id || !['disable', 'enable', 'refresh', 'destroy', 'repair', 'reshare'].includes(action ?? '')) return usage('key disable|enable|refresh|destroy <id> | key repair <id> --node <n> | key reshare <id> --nodes 1,2,3 --threshold 2');
      if (action === 'reshare') {
        const { values } = parseArgs({ args, options: { nodes: { type: 'string' }, threshold: { type: 'string' }, 'token-file': { type: 'string' } } });
        return api('POST', `/v1/keys/${encodeURIComponent(id)}/reshare`, { nodes: (values.nodes ?? '').split(',').map(Number), threshold: Number(values.threshold) }, args);
      }
      if (action === 'destroy') return api('DELETE', `/v1/keys/${encodeURIComponent(id)}`, undefined, args);
      if (action === 'repair') {
        const { values } = parseArgs({ args, options: { node: { type: 'string' }, 'token-file': { type: 'string' } } });
        return api('POST', `/v1/keys/${encodeURIComponent(id)}/repair`, { node: Number(values.node) }, args);
      }
      return api('POST', `/v1/keys/${encodeURIComponent(id)}/${action}`, undefined, args);
    }
    case 'token': {
      const [action, ...args] = rest;
      const { values } = parseArgs({ args, options: { file: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'string' } } });
      if (action !== 'create' || !values.file || !values.name || !values.scopes) return usage('token create --file <tokens.json> --name <name> --scopes sign,keys:read');
      const token = await createToken(values.file, values.name, values.scopes.split(',') as never);
      console.log(token);
      console.error(`token ${values.name} added to ${values.file} (its SHA-256 only); set tokensFile in the coordinator config and restart it`);
      return 0;
    }
    case 'sign': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { path: { type: 'string' }, 'token-file': { type: 'string' } } });
      const [keyId, message] = positionals;
      if (!keyId || !message) return usage('sign <keyId> <hex message> [--path m/0/1]');
      return api('POST', `/v1/keys/${encodeURIComponent(keyId)}/sign`, { message, ...(values.path ? { derivationPath: values.path } : {}) }, rest);
    }
  }
  return usage(USAGE);
}

function configArg(args: string[]): string {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  if (!values.config) {
    console.error('--config <file> is required');
    process.exit(2);
  }
  return values.config;
}

async function api(method: string, path: string, body: unknown, args: string[]): Promise<number> {
  const tokenFileIndex = args.indexOf('--token-file');
  const tokenFiles = tokenFileIndex >= 0 ? [args[tokenFileIndex + 1]!] : ['.mpc/dev/coordinator/api-token', '.mpc/dev/api-token'];
  let token = process.env.MPC_API_TOKEN ?? '';
  for (const f of tokenFiles) token ||= (await readFile(f, 'utf8').catch(() => '')).trim();
  const base = process.env.MPC_URL ?? `http://127.0.0.1:${process.env.MPC_PORT ?? '7700'}`;
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    signal: AbortSignal.timeout(180_000),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  console.log(text);
  return res.ok ? 0 : 1;
}

function usage(message: string): number {
  console.error(message);
  return 2;
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (e) {
  // Operators get the reason, not a stack trace (and never secret material: errors carry none).
  console.error(`mpc: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
