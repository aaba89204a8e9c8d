/**
 * The contract end to end, on a real engine and node runtimes behind the real HTTP server, driven
 * by the typed client: every route of contract/api.ts is in the generated OpenAPI document, and
 * every answer the client received (successes and errors) validates against that document's
 * schema for its route and status (checked by Ajv, not by the zod schemas that produced it).
 */
import { createHash } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MpcApiError, MpcClient, type SessionEventMessage } from 'mpc-signer/client';
import { ROUTES, type RouteContract } from '../../contract/api.ts';
import { createApiServer, type ApiServer } from '../../coordinator/api/server.ts';
import { MemoryCluster } from '../../simulations/memory-cluster.ts';

const TOKEN = 'admin-token-0123456789abcdef0123456789';
let cluster: MemoryCluster;
let api: ApiServer;
let client: MpcClient;
/** Every answer the client saw: method, the concrete path, status, body. */
const seen: { method: string; path: string; status: number; body: unknown }[] = [];
const logged: Record<string, unknown>[] = [];

beforeAll(async () => {
  cluster = await MemoryCluster.create({ nodes: 3 });
  await cluster.settle();
  api = await createApiServer({
    service: cluster.engine,
    port: 0,
    tokens: [{ token: TOKEN, scopes: ['admin'] }],
    ready: () => cluster.engine.health().nodes.filter((n) => n.online).length >= 2,
    log: (_e, fields) => void logged.push(fields),
  });
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const text = await res.clone().text();
    const url = new URL(String(input));
    if (res.headers.get('content-type')?.startsWith('application/json')) seen.push({ method: init?.method ?? 'GET', path: url.pathname, status: res.status, body: JSON.parse(text) });
    return res;
  };
  client = new MpcClient({ baseUrl: `http://127.0.0.1:${api.port}`, token: TOKEN, fetch: recording, retries: 0 });
}, 60_000);
afterAll(async () => {
  await api?.close();
  cluster?.close();
});

const digest = createHash('sha256').update('contract').digest('hex');

describe('the API through the typed client', () => {
  it('keys of every scheme with labels, pages and networks; children; signatures with hashes and Taproot; typed errors', async () => {
    expect((await client.health()).nodes).toHaveLength(3);
    expect(await client.ready()).toBe(true);
    const ec = await client.createKey({ scheme: 'ecdsa-secp256k1', label: 'treasury', metadata: { account: '42' } });
    const ed = await client.createKey({ scheme: 'eddsa-ed25519', label: 'treasury' });
    const tr = await client.createKey({ scheme: 'schnorr-bip340', label: 'vault' });
    expect(ec).toMatchObject({ label: 'treasury', metadata: { account: '42' }, status: 'active', epoch: 0, network: 'mainnet' });
    expect(ec.addresses.ethereum).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(ec.addresses.p2wpkh).toMatch(/^bc1q/);
    expect(ed.addresses.solana).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect(tr.taproot).toMatchObject({ internalKey: tr.publicKey });
    expect(tr.addresses.p2tr).toMatch(/^bc1p/);
    // Test networks: tpub and tb1 addresses.
    const testnet = await client.getKey(tr.id, { network: 'testnet' });
    expect([testnet.xpub?.slice(0, 4), testnet.addresses.p2tr?.slice(0, 4)]).toEqual(['tpub', 'tb1p']);
    expect((await client.getKey(ec.id, { network: 'regtest' })).addresses.p2wpkh).toMatch(/^bcrt1q/);
    // Pages in creation order, then a label filter across pages.
    const first = await client.listKeys({ limit: 2 });
    expect(first.keys.map((k) => k.id)).toEqual([ec.id, ed.id]);
    const second = await client.listKeys({ limit: 2, cursor: first.next! });
    expect([second.keys.map((k) => k.id), second.next]).toEqual([[tr.id], undefined]);
    const treasury: string[] = [];
    for await (const k of client.keys({ label: 'treasury', pageSize: 1 })) treasury.push(k.id);
    expect(treasury).toEqual([ec.id, ed.id]);
    // Children.
    const child = await client.getChild(tr.id, 'm/0/1');
    expect(child.taproot?.internalKey).toBe(child.publicKey);
    // Signatures, each with what wallets need.
    const ecSig = await client.sign(ec.id, { message: Buffer.from('hello').toString('hex'), hash: 'eip191' });
    expect(ecSig).toMatchObject({ recoveryId: expect.any(Number), r: ecSig.signature.slice(0, 64), s: ecSig.signature.slice(64), der: expect.stringMatching(/^30/), digest: expect.any(String) });
    const trSig = await client.sign(tr.id, { message: digest, taproot: {} });
    expect(trSig.publicKey).toBe(tr.taproot!.outputKey);
    const childSig = await client.sign(tr.id, { message: digest, derivationPath: 'm/0/1', taproot: {} });
    expect(childSig.publicKey).toBe(child.taproot!.outputKey);
    await client.sign(ed.id, { message: Buffer.from('solana').toString('hex') });
    // Errors are typed, with the API's code and the request id.
    const missing = await client.sign('no-such-key', { message: digest }, { requestId: 'trace-me-1' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MpcApiError);
    expect(missing).toMatchObject({ status: 404, code: 'key_not_found', requestId: 'trace-me-1' });
    const hardened = await client.getChild(tr.id, "m/86'/0'/0'").catch((e: MpcApiError) => e);
    expect(hardened).toMatchObject({ status: 400, code: 'unsupported', message: expect.stringMatching(/private key.*one key per account/s) });
    expect(await client.sign(ec.id, { message: digest, taproot: {} }).catch((e: MpcApiError) => e.code)).toBe('invalid_request');
    expect(await client.createKey({ scheme: 'ecdsa-secp256k1', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }).catch((e: MpcApiError) => e.code)).toBe('invalid_request');
    // The caller's X-Request-Id is kept: answered and logged.
    expect(logged.some((l) => l.requestId === 'trace-me-1' && l.status === 404)).toBe(true);
    await client.disableKey(ed.id);
    expect(await client.sign(ed.id, { message: '00' }).catch((e: MpcApiError) => e.code)).toBe('key_disabled');
    await client.enableKey(ed.id);
    expect(await client.destroyKey(ed.id)).toEqual({ id: ed.id, destroyed: true });
  });

  it('streams a request\'s events as an async iterator', async () => {
    const key = (await client.listKeys({ label: 'vault' })).keys[0]!;
    const stream = await client.events({ requestId: 'events-1' });
    const got: SessionEventMessage[] = [];
    const reading = (async () => {
      for await (const e of stream) {
        got.push(e);
        if (e.type === 'completed') break;
      }
    })();
    await client.sign(key.id, { message: digest }, { requestId: 'events-1' });
    await reading;
    stream.close();
    expect(got.map((e) => e.type)).toEqual(['started', 'completed']);
    expect(got.every((e) => e.requestId === 'events-1')).toBe(true);
  });

  it('a missing quorum is 503 with Retry-After, which the client honours before giving up', async () => {
    const key = (await client.listKeys({ label: 'vault' })).keys[0]!;
    cluster.crash(2);
    cluster.crash(3);
    await expect.poll(async () => client.ready(), { timeout: 10_000 }).toBe(false);
    const retrying = new MpcClient({ baseUrl: `http://127.0.0.1:${api.port}`, token: TOKEN, retries: 1 });
    const refused = (await retrying.sign(key.id, { message: digest }).catch((e: unknown) => e)) as MpcApiError;
    expect([refused.status, refused.code, refused.retryAfter]).toEqual([503, 'quorum_unavailable', 1]);
    const direct = await fetch(`http://127.0.0.1:${api.port}/v1/keys/${key.id}/sign`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ message: digest }) });
    expect([direct.status, direct.headers.get('retry-after')]).toEqual([503, '1']);
    cluster.restart(2);
    cluster.restart(3);
    await expect.poll(async () => client.ready(), { timeout: 10_000 }).toBe(true);
  });

  it('every route is in the OpenAPI document, and every answer seen validates against it', async () => {
    const doc = (await client.openapi()) as { paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>> };
    const templated = (path: string) => path.replace(/:([a-z]+)/g, '{$1}');
    for (const [name, route] of Object.entries(ROUTES as Record<string, RouteContract>)) {
      const op = doc.paths[templated(route.path)]?.[route.method.toLowerCase()];
      expect(op?.operationId, `${route.method} ${route.path}`).toBe(name);
      expect(Object.keys(op!.responses)).toContain(String(route.status));
    }
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema(doc, 'openapi');
    const routeOf = (method: string, path: string) =>
      Object.values(ROUTES as Record<string, RouteContract>).find((r) => r.method === method && new RegExp(`^${r.path.replace(/:[a-z]+/g, '[^/]+')}$`).test(path));
    expect(seen.length).toBeGreaterThan(20);
    const statuses = new Set<number>();
    for (const answer of seen) {
      const route = routeOf(answer.method, answer.path);
      if (!route) continue; // the document itself
      const pointer = `openapi#/paths/${templated(route.path).replaceAll('~', '~0').replaceAll('/', '~1')}/${route.method.toLowerCase()}/responses/${answer.status}/content/application~1json/schema`;
      const validate = ajv.compile({ $ref: pointer });
      expect(validate(answer.body), `${answer.method} ${answer.path} ${answer.status}: ${JSON.stringify(validate.errors)}`).toBe(true);
      statuses.add(answer.status);
    }
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 201, 400, 403, 404, 503]));
  });
});
