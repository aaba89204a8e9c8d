#!/usr/bin/env node
/**
 * `mpc`: the operator's command line. `mpc --help` and `mpc <command> --help` list every command
 * and option. API commands go through the typed client (client/) to MPC_URL (default
 * http://127.0.0.1:${MPC_PORT:-7700}) with MPC_API_TOKEN (or --token-file, default
 * .mpc/dev/coordinator/api-token). Answers are printed for people, or as JSON with --json.
 *
 * Exit codes: 0 done; 1 refused or failed (an API error, a failed audit check); 2 usage error;
 * 3 the coordinator could not be reached.
 */
import { readFile } from 'node:fs/promises';
import { createHash, randomUUID } from 'node:crypto';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { MpcApiError, MpcClient, type ApprovalRequest, type SessionEventMessage, type SignBody } from '../client/index.ts';
import { signApproval } from '../cluster/policy/approvals.ts';
import { decodeTransaction } from '../cluster/policy/chains.ts';
import type { TransactionFormat } from '../cluster/control.ts';
import { BITCOIN_NETWORKS, MESSAGE_HASHES, SCHEMES } from '../protocol/schemes/index.ts';
import { ALL_SCOPES, createToken, type Scope } from '../coordinator/api/tokens.ts';
import { render } from './render.ts';
import { createSignerKey, loadSignerKey, proposePolicyFile, readProposal, signProposal, type SignerRole } from './policy-files.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

interface GlobalOptions {
  url?: string;
  tokenFile?: string;
  json?: boolean;
  quiet?: boolean;
  timeout?: number;
}

/** A usage problem found after parsing (no token, an unknown scope): exit 2 with the reason. */
class UsageError extends Error {}

const integer = (what: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${what} must be a whole number`);
  return Number(v);
};
const nodeList = (v: string) => {
  if (!/^\d+(,\d+)*$/.test(v)) throw new InvalidArgumentError('expected node ids like 1,2,3');
  return v.split(',').map(Number);
};
const keyValue = (v: string, acc: Record<string, string> = {}) => {
  const i = v.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError('expected name=value');
  return { ...acc, [v.slice(0, i)]: v.slice(i + 1) };
};
const collect = (v: string, acc: string[] = []) => [...acc, v];

const program = new Command('mpc')
  .description('Operate an mpc-signer cluster: nodes, keys, signatures, backups, tokens.')
  .version(pkg.version, '-v, --version')
  .option('--url <url>', 'coordinator API (default $MPC_URL, or http://127.0.0.1:$MPC_PORT, port 7700)')
  .option('--token-file <file>', 'file holding the API token (default $MPC_API_TOKEN, then .mpc/dev/coordinator/api-token)')
  .option('--json', 'print answers as JSON (for scripts)')
  .option('-q, --quiet', 'no progress on stderr')
  .option('--timeout <ms>', 'how long the coordinator may work on a request', integer('--timeout'))
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    `
Exit codes: 0 done, 1 refused or failed, 2 usage error, 3 coordinator unreachable.
Start a local cluster with \`npm start\`; its API token is in .mpc/dev/coordinator/api-token.`,
  )
  .exitOverride();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();

// ---- processes and offline node operations ----------------------------------------------

program
  .command('start-node')
  .description('run a signer node')
  .requiredOption('--config <file>', "the node's JSON config")
  .action(async (o: { config: string }) => {
    const { startNode } = await import('../node/main.ts');
    await startNode(o.config);
    return new Promise<never>(() => undefined); // runs until signalled
  });

program
  .command('start-coordinator')
  .description('run the coordinator (API and engine)')
  .requiredOption('--config <file>', "the coordinator's JSON config")
  .action(async (o: { config: string }) => {
    const { startCoordinator } = await import('../coordinator/main.ts');
    await startCoordinator(o.config);
    return new Promise<never>(() => undefined);
  });

program
  .command('init-node')
  .description("create a node's identity key (sealed by its provider) and print its public key")
  .requiredOption('--config <file>', "the node's JSON config")
  .action(async (o: { config: string }) => {
    const { initNodeIdentity } = await import('../node/main.ts');
    console.log(await initNodeIdentity(o.config));
  });

program
  .command('init-coordinator')
  .description("create the coordinator's identity key and print its public key")
  .requiredOption('--config <file>', "the coordinator's JSON config")
  .action(async (o: { config: string }) => {
    const { initCoordinatorIdentity } = await import('../coordinator/main.ts');
    console.log(await initCoordinatorIdentity(o.config));
  });

program
  .command('rewrap')
  .description("move every data key of a stopped node to a new provider key")
  .requiredOption('--config <file>', "the node's JSON config")
  .requiredOption('--to <file>', 'the new provider JSON')
  .action(async (o: { config: string; to: string }) => {
    const { rewrapNode } = await import('../node/main.ts');
    console.log(JSON.stringify(await rewrapNode(o.config, o.to)));
  });

const backup = program.command('backup').description("back a stopped node up under custodian shares, or restore it");
backup
  .command('create')
  .description("write the node's identity and shares, encrypted, and print the custodian shares")
  .requiredOption('--config <file>', "the node's JSON config")
  .requiredOption('--out <file>', 'backup file to write')
  .option('--threshold <t>', 'custodian shares needed to restore', integer('--threshold'), 3)
  .option('--custodians <n>', 'custodian shares to make', integer('--custodians'), 5)
  .action(async (o: { config: string; out: string; threshold: number; custodians: number }) => {
    const { backupNode } = await import('../node/main.ts');
    progress(`writing the backup of ${o.config} to ${o.out} ...`);
    const shares = await backupNode(o.config, o.out, o.threshold, o.custodians);
    console.log(`backup written to ${o.out}; give one custodian share to each custodian (any ${o.threshold} restore it):`);
    for (const s of shares) console.log(s);
  });
backup
  .command('restore')
  .description('restore a node from a backup and custodian shares, sealing under its provider')
  .requiredOption('--config <file>', "the node's JSON config")
  .requiredOption('--in <file>', 'backup file')
  .requiredOption('--share <share>', 'a custodian share (repeat)', collect)
  .action(async (o: { config: string; in: string; share: string[] }) => {
    const { restoreNode } = await import('../node/main.ts');
    progress(`restoring ${o.in} ...`);
    console.log(JSON.stringify(await restoreNode(o.config, o.in, o.share)));
  });

program
  .command('audit')
  .description("check a node's audit log")
  .command('verify')
  .description('verify the hash chain and signatures of every entry (exit 1 when broken)')
  .requiredOption('--config <file>', "the node's JSON config")
  .action(async (o: { config: string }) => {
    const { verifyNodeAudit } = await import('../node/main.ts');
    const verdict = await verifyNodeAudit(o.config);
    print(verdict);
    if (!verdict.ok) process.exitCode = EXIT.failed;
  });

program
  .command('token')
  .description('API tokens')
  .command('create')
  .description('add a scoped token (only its SHA-256 is stored; the token is printed once)')
  .requiredOption('--file <tokens.json>', 'the tokens file the coordinator reads (tokensFile)')
  .requiredOption('--name <name>', 'who or what uses it')
  .requiredOption('--scopes <list>', `comma-separated: ${ALL_SCOPES.join(', ')}`)
  .action(async (o: { file: string; name: string; scopes: string }) => {
    const scopes = o.scopes.split(',');
    const unknown = scopes.filter((s) => !(ALL_SCOPES as readonly string[]).includes(s));
    if (unknown.length) throw new UsageError(`unknown scope ${unknown.join(', ')}; scopes are ${ALL_SCOPES.join(', ')}`);
    console.log(await createToken(o.file, o.name, scopes as Scope[]));
    console.error(`token ${o.name} added to ${o.file} (its SHA-256 only); set tokensFile in the coordinator config and restart it`);
  });

// ---- the API -----------------------------------------------------------------------------

program
  .command('health')
  .description('which nodes are online')
  .action(async () => print(await (await client()).health()));

const keys = program.command('keys').description('create, list and inspect keys');
keys
  .command('create')
  .description('generate a key by DKG on the cluster (progress on stderr)')
  .addOption(new Option('--scheme <scheme>', 'signature scheme').choices(SCHEMES).makeOptionMandatory())
  .option('--threshold <t>', 'signers needed (default: a majority of the nodes)', integer('--threshold'))
  .option('--nodes <ids>', 'the nodes that hold it, e.g. 1,2,3 (default: all)', nodeList)
  .option('--label <label>', 'a name for the key (GET /v1/keys?label= filters by it)')
  .option('--meta <name=value>', 'metadata entry (repeat)', keyValue)
  .action(async (o: { scheme: (typeof SCHEMES)[number]; threshold?: number; nodes?: number[]; label?: string; meta?: Record<string, string> }) => {
    const api = await client();
    const key = await showingProgress(api, (requestId) =>
      api.createKey(
        { scheme: o.scheme, ...(o.threshold ? { threshold: o.threshold } : {}), ...(o.nodes ? { nodes: o.nodes } : {}), ...(o.label ? { label: o.label } : {}), ...(o.meta ? { metadata: o.meta } : {}) },
        { requestId },
      ),
    );
    print(key);
  });
keys
  .command('list')
  .description('keys in creation order, a page at a time')
  .option('--label <label>', 'only keys with this label')
  .option('--limit <n>', 'page size', integer('--limit'), 100)
  .option('--cursor <cursor>', 'the page after this cursor (printed with the previous page)')
  .option('--all', 'every page')
  .addOption(new Option('--network <network>', 'Bitcoin network of addresses').choices(BITCOIN_NETWORKS))
  .action(async (o: { label?: string; limit: number; cursor?: string; all?: boolean; network?: (typeof BITCOIN_NETWORKS)[number] }) => {
    const api = await client();
    const query = { ...(o.label ? { label: o.label } : {}), ...(o.network ? { network: o.network } : {}) };
    if (o.all) {
      const all = [];
      for await (const k of api.keys({ ...query, pageSize: o.limit })) all.push(k);
      return print({ keys: all });
    }
    print(await api.listKeys({ ...query, limit: o.limit, ...(o.cursor ? { cursor: o.cursor } : {}) }));
  });
keys
  .command('get <id>')
  .description('a key, its addresses and (BIP340) Taproot keys')
  .addOption(new Option('--network <network>', 'Bitcoin network of addresses and xpub').choices(BITCOIN_NETWORKS))
  .action(async (id: string, o: { network?: (typeof BITCOIN_NETWORKS)[number] }) => print(await (await client()).getKey(id, o.network ? { network: o.network } : {})));
keys
  .command('child <id> <path>')
  .description('a non-hardened child (e.g. m/0/1): its key, addresses and Taproot keys')
  .addOption(new Option('--network <network>', 'Bitcoin network of addresses').choices(BITCOIN_NETWORKS))
  .action(async (id: string, path: string, o: { network?: (typeof BITCOIN_NETWORKS)[number] }) => print(await (await client()).getChild(id, path, o.network ? { network: o.network } : {})));

const key = program.command('key').description('key lifecycle (admin token)');
for (const [action, description] of [
  ['disable', 'refuse to sign with the key until enabled'],
  ['enable', 'sign with a disabled key again'],
  ['refresh', 'proactive refresh: every share changes, the key does not (every holder online)'],
  ['destroy', 'erase every share of the key on every node, then forget it'],
] as const) {
  key
    .command(`${action} <id>`)
    .description(description)
    .action(async (id: string) => {
      const api = await client();
      const run = { disable: () => api.disableKey(id), enable: () => api.enableKey(id), refresh: () => showingProgress(api, (requestId) => api.refreshKey(id, { requestId })), destroy: () => api.destroyKey(id) }[action];
      print(await run());
    });
}
key
  .command('repair <id>')
  .description("rebuild a node's lost share with t other holders")
  .requiredOption('--node <n>', 'the node whose share is lost', integer('--node'))
  .action(async (id: string, o: { node: number }) => {
    const api = await client();
    print(await showingProgress(api, (requestId) => api.repairKey(id, o.node, { requestId })));
  });
key
  .command('reshare <id>')
  .description('move the key to a new committee and/or threshold; the public key stays')
  .requiredOption('--nodes <ids>', 'the new committee, e.g. 1,2,4', nodeList)
  .requiredOption('--threshold <t>', 'the new threshold', integer('--threshold'))
  .action(async (id: string, o: { nodes: number[]; threshold: number }) => {
    const api = await client();
    print(await showingProgress(api, (requestId) => api.reshareKey(id, { nodes: o.nodes, threshold: o.threshold }, { requestId })));
  });

program
  .command('sign <keyId> <message>')
  .description('sign a hex digest (ECDSA, BIP340), a hex message (Ed25519), with --hash a preimage the nodes hash, or with --transaction an unsigned transaction the nodes decode')
  .option('--path <path>', 'sign with a non-hardened child, e.g. m/0/1')
  .option('--text', 'the message is UTF-8 text, not hex')
  .addOption(new Option('--hash <hash>', 'the nodes hash the message with this first').choices(MESSAGE_HASHES))
  .option('--taproot', 'BIP340: a Taproot key-path spend of the BIP86 output key')
  .option('--merkle-root <hex>', 'BIP340: a Taproot key-path spend of an output with this script tree')
  .addOption(new Option('--transaction <format>', 'the message is an unsigned transaction').choices(['ethereum', 'psbt', 'solana']))
  .option('--input <n>', 'psbt: the input to sign', integer('--input'))
  .option('--digest <hex>', 'with --transaction: the digest you expect (refused if it differs)')
  .option('--request-id <id>', 'the unique id approvals name')
  .option('--deadline <unix-seconds>', 'when the approvals expire', integer('--deadline'))
  .option('--approval <name:signature>', 'an approver\'s signature (repeat for each)', collect)
  .option('--await-approvals', 'do not sign yet: keep the request until its approvers have signed it (prints the request to approve)')
  .action(async (keyId: string, message: string, o: SignOptions) => {
    const body = signBody(message, o);
    const api = await client();
    print(o.awaitApprovals ? await api.submitRequest(keyId, body) : await api.sign(keyId, body));
  });

interface SignOptions {
  path?: string;
  text?: boolean;
  hash?: (typeof MESSAGE_HASHES)[number];
  taproot?: boolean;
  merkleRoot?: string;
  transaction?: 'ethereum' | 'psbt' | 'solana';
  input?: number;
  digest?: string;
  requestId?: string;
  deadline?: number;
  approval?: string[];
  awaitApprovals?: boolean;
}

/** What a transaction does, read on this machine (the nodes read it again themselves). */
async function describeTransaction(api: MpcClient, approval: ApprovalRequest, message: Uint8Array): Promise<string | undefined> {
  if (!approval.transaction) return undefined;
  const root = await api.getKey(approval.keyId);
  const key = approval.derivationPath ? await api.getChild(approval.keyId, approval.derivationPath) : root;
  const signingKey = approval.taproot !== null ? Buffer.from(key.taproot?.outputKey ?? key.publicKey, 'hex') : Buffer.from(key.publicKey, 'hex');
  try {
    const { facts } = decodeTransaction(approval.transaction as TransactionFormat, message, { scheme: root.scheme, signingKey, input: approval.input, bitcoinNetwork: key.network });
    const where = facts.transfers.map((t) => `${t.value} to ${t.to}`).join(', ') || 'no transfer';
    return `${facts.chain}${facts.chainId !== undefined ? ` chain ${facts.chainId}` : ''}: ${where}${facts.opaque.length ? `; also ${facts.opaque.join('; ')}` : ''}`;
  } catch (e) {
    return `cannot read the transaction: ${(e as Error).message}`;
  }
}

function signBody(message: string, o: SignOptions): SignBody {
  const hex = o.text ? Buffer.from(message, 'utf8').toString('hex') : message;
  const taproot = o.merkleRoot ? { merkleRoot: o.merkleRoot } : o.taproot ? {} : undefined;
  const approvals = (o.approval ?? []).map((a) => {
    const i = a.indexOf(':');
    if (i <= 0) throw new UsageError(`--approval takes name:signature, not ${a}`);
    return { approver: a.slice(0, i), signature: a.slice(i + 1) };
  });
  return {
    message: hex,
    ...(o.hash ? { hash: o.hash } : {}),
    ...(o.path ? { derivationPath: o.path } : {}),
    ...(taproot ? { taproot } : {}),
    ...(o.transaction ? { transaction: o.transaction } : {}),
    ...(o.input !== undefined ? { input: o.input } : {}),
    ...(o.digest ? { digest: o.digest } : {}),
    ...(o.requestId ? { requestId: o.requestId } : {}),
    ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
    ...(approvals.length ? { approvals } : {}),
  };
}

program
  .command('request <requestId>')
  .description('a request waiting for approvals: what approvers sign, who approved, its signature once made')
  .action(async (requestId: string) => print(await (await client()).getRequest(requestId)));

program
  .command('approve <requestId>')
  .description('approve a waiting request: shows what it signs, then signs it with your approver key')
  .requiredOption('--name <name>', 'your approver name in the policy')
  .requiredOption('--key <file>', 'your sealed approver key (mpc signer-key create --role approver)')
  .option('--provider <file>', 'provider JSON that sealed it (default: <key>.kek)')
  .action(async (requestId: string, o: { name: string; key: string; provider?: string }) => {
    const api = await client();
    const pending = await api.getRequest(requestId);
    // The approval names the message by its SHA-256: check it is the message shown, and show what it does.
    const message = Buffer.from(pending.message, 'hex');
    if (createHash('sha256').update(message).digest('hex') !== pending.approval.messageSha256) throw new Error(`request ${requestId}: the message shown is not the one the approval names; not approving`);
    progress(`approving ${JSON.stringify(pending.approval)}`);
    const shown = await describeTransaction(api, pending.approval, message);
    if (shown) progress(shown);
    const identity = await loadSignerKey('approver', o.name, o.key, o.provider);
    const signature = Buffer.from(signApproval(identity.seed, pending.approval)).toString('hex');
    identity.seed.fill(0);
    print(await api.approveRequest(requestId, { approver: o.name, signature }));
  });

// ---- policy --------------------------------------------------------------------------------

program
  .command('signer-key')
  .description('keys of policy administrators and approvers (sealed like node identities)')
  .command('create')
  .description('create an Ed25519 key sealed by a provider, and print its public key (for the manifest or the policy)')
  .addOption(new Option('--role <role>', 'what the key signs').choices(['admin', 'approver']).makeOptionMandatory())
  .requiredOption('--name <name>', 'the name the manifest (administrators) or the policy (approvers) gives it')
  .requiredOption('--out <file>', 'where to keep the sealed key (must not exist)')
  .option('--provider <file>', 'provider JSON that seals it (default: a local key file beside it, <out>.kek)')
  .action(async (o: { role: SignerRole; name: string; out: string; provider?: string }) => {
    console.log(await createSignerKey(o.role, o.name, o.out, o.provider));
  });

const policy = program.command('policy').description('the signing policy every node enforces (README, "Policy")');
policy
  .command('show')
  .description('the policy in force, its administrators\' signatures, and the version each node reported')
  .action(async () => print(await (await client()).getPolicy()));
policy
  .command('propose')
  .description('start a proposal from a policy JSON file: it prints the hash administrators sign')
  .requiredOption('--file <policy.json>', 'the policy document')
  .requiredOption('--out <proposal.json>', 'the proposal file to pass to the administrators')
  .action(async (o: { file: string; out: string }) => {
    const proposal = await proposePolicyFile(o.file, o.out);
    print({ version: proposal.policy.version, hash: proposal.hash, proposal: o.out });
  });
policy
  .command('sign')
  .description("add an administrator's signature to a proposal (check its policy and hash first)")
  .requiredOption('--proposal <file>', 'the proposal file')
  .requiredOption('--name <name>', 'the administrator, as the manifest names it')
  .requiredOption('--key <file>', "the administrator's sealed key")
  .option('--provider <file>', 'provider JSON that sealed it (default: <key>.kek)')
  .action(async (o: { proposal: string; name: string; key: string; provider?: string }) => {
    const identity = await loadSignerKey('admin', o.name, o.key, o.provider);
    const proposal = await signProposal(o.proposal, o.name, identity);
    identity.seed.fill(0);
    print({ version: proposal.policy.version, hash: proposal.hash, signedBy: proposal.signatures.map((s) => s.admin) });
  });
policy
  .command('apply')
  .description('send a signed proposal to the cluster: every node checks the signatures and the version itself')
  .requiredOption('--proposal <file>', 'the proposal file, signed by the administrators\' quorum')
  .action(async (o: { proposal: string }) => {
    const proposal = await readProposal(o.proposal);
    print(await (await client()).proposePolicy({ policy: proposal.policy, signatures: proposal.signatures }));
  });

// ---- plumbing ----------------------------------------------------------------------------

function baseUrl(): string {
  return globals().url ?? process.env.MPC_URL ?? `http://127.0.0.1:${process.env.MPC_PORT ?? '7700'}`;
}

async function client(): Promise<MpcClient> {
  const g = globals();
  let token = g.tokenFile ? '' : (process.env.MPC_API_TOKEN ?? '');
  for (const f of g.tokenFile ? [g.tokenFile] : ['.mpc/dev/coordinator/api-token', '.mpc/dev/api-token']) token ||= (await readFile(f, 'utf8').catch(() => '')).trim();
  if (!token) throw new UsageError('no API token: set MPC_API_TOKEN or pass --token-file (a local cluster keeps it in .mpc/dev/coordinator/api-token)');
  return new MpcClient({ baseUrl: baseUrl(), token, ...(g.timeout ? { timeoutMs: g.timeout } : {}) });
}

/** Runs a long request while printing its session events on stderr (unless --quiet or the token cannot read them). */
async function showingProgress<T>(api: MpcClient, run: (requestId: string) => Promise<T>): Promise<T> {
  const requestId = randomUUID();
  const stream = globals().quiet ? undefined : await api.events({ requestId }).catch(() => undefined);
  const printing = stream
    ? (async () => {
        for await (const e of stream) progress(describe(e));
      })()
    : undefined;
  try {
    return await run(requestId);
  } finally {
    stream?.close();
    await printing;
  }
}

/** One line of progress for a session event. */
function describe(e: SessionEventMessage): string {
  switch (e.type) {
    case 'started':
      return `${e.operation} started on nodes ${e.nodes.join(', ')}`;
    case 'node_done':
      return `node ${e.node} done (${e.done} of ${e.of})`;
    case 'retried':
      return `attempt ${e.attempt} on nodes ${e.nodes.join(', ')}`;
    case 'signer_failed':
      return `node ${e.node} failed (${e.reason})`;
    case 'round':
      return `round ${e.round}`;
    case 'completed':
      return e.ok ? 'completed' : `failed (${e.error ?? 'unknown'})`;
    case 'approval':
      return `approved by ${e.approver} (${e.have} of ${e.need})`;
  }
}

function progress(line: string): void {
  if (!globals().quiet) process.stderr.write(`mpc: ${line}\n`);
}

function print(value: unknown): void {
  console.log(globals().json ? JSON.stringify(value, null, 2) : render(value));
}

export async function run(argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage; // help and version exit 0; commander printed the usage error
    if (e instanceof UsageError) {
      console.error(`mpc: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof MpcApiError) {
      if (e.status === 0) {
        console.error(`mpc: ${e.message}; is the cluster running? (\`npm start\` starts a local one)`);
        return EXIT.unreachable;
      }
      if (globals().json) console.log(JSON.stringify({ error: { code: e.code, message: e.message } }, null, 2));
      console.error(`mpc: ${e.code}: ${e.message} (HTTP ${e.status} from ${baseUrl()}${e.requestId ? `, request ${e.requestId}` : ''})`);
      return EXIT.failed;
    }
    // Operators get the reason, not a stack trace (and never secret material: errors carry none).
    console.error(`mpc: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.failed;
  }
}

const code = await run(process.argv.slice(2));
// start-node and start-coordinator never return; everything else exits with its code.
process.exit(code);
