/**
 * The HTTP contract on a real socket, against a recording fake SigningService: auth and
 * scopes, error shapes without side effects, idempotency, overload, deadlines, event stream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiServer, type ApiServer } from '../../coordinator/api/server.ts';
import { ServiceError, type KeyInfo, type RequestContext, type SigningService } from '../../coordinator/service.ts';

const KEY: KeyInfo = { id: 'k1', scheme: 'eddsa-ed25519', threshold: 2, nodes: [1, 2, 3], publicKey: 'aa'.repeat(32), chainCode: 'bb'.repeat(32), createdAt: '2026-01-01T00:00:00Z' };

class FakeService implements SigningService {
  calls: string[] = [];
  delayMs = 0;
  failWith: ServiceError | undefined;
  /** While set, calls wait for `release()`: overlaps are made, not hoped for. */
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  health() {
    return { status: 'ok' as const, nodes: [1, 2, 3].map((id) => ({ id, online: true })) };
  }
  async createKey(req: { scheme: string }, ctx: RequestContext) {
    this.calls.push(`createKey ${req.scheme}`);
    ctx.emit({ type: 'started', session: 's1', operation: 'keygen', nodes: [1, 2, 3] });
    await this.wait(ctx);
    return { ...KEY, id: `k${this.calls.length}` };
  }
  async listKeys() {
    return { keys: [KEY] };
  }
  async getKey(id: string) {
    return id === 'k1' ? KEY : undefined;
  }
  async sign(keyId: string, req: { message: Uint8Array }, ctx: RequestContext) {
    this.calls.push(`sign ${keyId} ${Buffer.from(req.message).toString('hex')}`);
    ctx.emit({ type: 'started', session: 's2', operation: 'sign', keyId, nodes: [1, 2] });
    await this.wait(ctx);
    ctx.emit({ type: 'completed', session: 's2', ok: true });
    return { signature: 'cc'.repeat(64), publicKey: KEY.publicKey, signers: [1, 2] };
  }
  async setKeyStatus(id: string, status: 'active' | 'disabled') {
    this.calls.push(`status ${id} ${status}`);
    if (id !== 'k1') throw new ServiceError('key_not_found', 'no key');
    return { ...KEY, status };
  }
  async destroyKey(id: string) {
    this.calls.push(`destroy ${id}`);
  }
  async refreshKey(id: string) {
    this.calls.push(`refresh ${id}`);
    return { ...KEY, epoch: 1 };
  }
  async repairKey(id: string, node: number) {
    this.calls.push(`repair ${id} ${node}`);
  }
  async reshareKey(id: string, req: { nodes: readonly number[]; threshold: number }) {
    this.calls.push(`reshare ${id} ${req.nodes.join(',')} ${req.threshold}`);
    return { ...KEY, nodes: [...req.nodes], threshold: req.threshold, epoch: 2 };
  }
  private async wait(ctx: RequestContext) {
    if (this.failWith) throw this.failWith;
    await this.gate;
    // Decided from the durations, not by reading the wall clock again after the timer (which can
    // read a millisecond short of the deadline): work longer than the time left misses it.
    const left = Math.max(0, ctx.deadline - Date.now());
    if (this.delayMs) await new Promise((r) => setTimeout(r, Math.min(this.delayMs, left)));
    if (this.delayMs > left || left === 0) throw new ServiceError('deadline_exceeded', 'too slow');
  }
}

let api: ApiServer | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function setup(limits = {}) {
  const service = new FakeService();
  api = await createApiServer({
    service,
    port: 0,
    tokens: [
      { token: 'admin-token-0123456789', scopes: ['admin'] },
      { token: 'reader-token-0123456789', scopes: ['keys:read'] },
      { token: 'signer-token-0123456789', scopes: ['sign', 'keys:read'] },
    ],
    limits,
  });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${api!.port}${path}`, {
      method,
      headers: { authorization: 'Bearer admin-token-0123456789', 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
  };
  return { service, call };
}

describe('coordinator HTTP API', () => {
  it('authenticates with bearer tokens and enforces scopes', async () => {
    const { call } = await setup();
    expect((await call('GET', '/v1/health', undefined, { authorization: '' })).status).toBe(200);
    expect((await call('GET', '/v1/keys', undefined, { authorization: '' })).body.error.code).toBe('unauthorized');
    expect((await call('GET', '/v1/keys', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await call('GET', '/v1/keys', undefined, { authorization: 'Bearer reader-token-0123456789' })).status).toBe(200);
    const denied = await call('POST', '/v1/keys/k1/sign', { message: '00' }, { authorization: 'Bearer reader-token-0123456789' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('forbidden');
    expect((await call('POST', '/v1/keys', { scheme: 'eddsa-ed25519' }, { authorization: 'Bearer signer-token-0123456789' })).status).toBe(403);
    expect((await call('POST', '/v1/keys/k1/sign', { message: '00' }, { authorization: 'Bearer signer-token-0123456789' })).status).toBe(200);
  });

  it('answers bad input with a JSON 4xx and never calls the service', async () => {
    const { call, service } = await setup();
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/keys', '{"scheme":', 400, 'invalid_json'],
      ['POST', '/v1/keys', [], 400, 'invalid_request'],
      ['POST', '/v1/keys', { scheme: 'rsa' }, 400, 'unknown_scheme'],
      ['POST', '/v1/keys', { scheme: 'eddsa-ed25519', threshold: 1 }, 400, 'invalid_threshold'],
      ['POST', '/v1/keys', { scheme: 'eddsa-ed25519', threshold: 4 }, 400, 'invalid_threshold'],
      ['POST', '/v1/keys', { scheme: 'eddsa-ed25519', nodes: [1, 9] }, 400, 'unknown_node'],
      ['POST', '/v1/keys', { scheme: 'eddsa-ed25519', extra: 1 }, 400, 'invalid_request'],
      ['POST', '/v1/keys/k1/sign', { message: 'xyz' }, 400, 'invalid_hex'],
      ['POST', '/v1/keys/k1/sign', { message: '00'.repeat(64 * 1024 + 1) }, 400, 'invalid_message_length'],
      ['POST', '/v1/keys/k1/sign', { message: '00', derivationPath: "m/0'" }, 400, 'unsupported'],
      ['POST', '/v1/keys/k1/sign', { message: '00', derivationPath: 'x/0' }, 400, 'invalid_path'],
      ['POST', '/v1/keys/nope/sign', { message: '00' }, 404, 'key_not_found'],
      ['GET', '/v1/keys/nope', undefined, 404, 'key_not_found'],
      ['POST', '/v1/keys/k1/sign', { message: '00'.repeat(600 * 1024) }, 413, 'body_too_large'],
      ['DELETE', '/v1/keys/k1/sign', undefined, 405, 'method_not_allowed'],
      ['GET', '/v2/anything', undefined, 404, 'not_found'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await call(method, path, body);
      expect([res.status, res.body.error?.code], `${method} ${path} ${JSON.stringify(body)?.slice(0, 40)}`).toEqual([status, code]);
      expect(typeof res.body.error.message).toBe('string');
    }
    const wrongType = await fetch(`http://127.0.0.1:${api!.port}/v1/keys`, { method: 'POST', headers: { authorization: 'Bearer admin-token-0123456789', 'content-type': 'text/plain' }, body: '{}' });
    expect(wrongType.status).toBe(415);
    expect(service.calls).toEqual([]);
  });

  it('maps service failures to statuses: 503 quorum_unavailable, 504, 429 with Retry-After', async () => {
    const { call, service } = await setup();
    service.failWith = new ServiceError('quorum_unavailable', 'two nodes down');
    expect((await call('POST', '/v1/keys/k1/sign', { message: '00' })).body.error.code).toBe('quorum_unavailable');
    service.failWith = new ServiceError('overloaded', 'busy');
    const busy = await call('POST', '/v1/keys/k1/sign', { message: '00' });
    expect([busy.status, busy.headers.get('retry-after')]).toEqual([429, '1']);
    service.failWith = undefined;
    service.delayMs = 5000;
    const slow = await call('POST', '/v1/keys/k1/sign', { message: '00' }, { 'x-request-timeout-ms': '100' });
    expect([slow.status, slow.body.error.code]).toEqual([504, 'deadline_exceeded']);
  });

  it('rejects requests beyond the in-flight limit with 429 instead of queueing', async () => {
    const { call, service } = await setup({ maxInFlight: 2 });
    service.hold(); // the first two stay in flight until released
    const answered: { status: number; body: any }[] = [];
    const pending = Array.from({ length: 5 }, (_, i) => call('POST', '/v1/keys/k1/sign', { message: `0${i}` }).then((r) => (answered.push(r), r)));
    // The three beyond the limit are answered while the two are still held: refused, not queued.
    await expect.poll(() => answered.length).toBe(3);
    expect(answered.every((r) => r.status === 429 && r.body.error.code === 'overloaded')).toBe(true);
    expect(service.calls).toHaveLength(2);
    service.release();
    const results = await Promise.all(pending);
    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
  });

  it('replays an Idempotency-Key with the same body, including while in flight, and refuses a different body with 409', async () => {
    const { call, service } = await setup();
    service.hold();
    const h = { 'idempotency-key': 'req-1' };
    const first = call('POST', '/v1/keys', { scheme: 'eddsa-ed25519' }, h);
    await expect.poll(() => service.calls.length).toBe(1);
    const second = call('POST', '/v1/keys', { scheme: 'eddsa-ed25519' }, h); // while the first is in flight
    service.release();
    const [a, b] = await Promise.all([first, second]);
    const c = await call('POST', '/v1/keys', { scheme: 'eddsa-ed25519' }, h);
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    expect(b.body).toEqual(a.body);
    expect(c.body).toEqual(a.body);
    expect(service.calls).toEqual(['createKey eddsa-ed25519']);
    const conflict = await call('POST', '/v1/keys', { scheme: 'schnorr-bip340' }, h);
    expect([conflict.status, conflict.body.error.code]).toEqual([409, 'idempotency_conflict']);
    expect(service.calls).toHaveLength(1);
  });

  it('a flood of 10 001 malformed requests, each with its own Idempotency-Key, evicts nothing: the retry replays the first signature', async () => {
    const { call, service } = await setup();
    const first = await call('POST', '/v1/keys/k1/sign', { message: '01' }, { 'idempotency-key': 'victim' });
    expect(first.status).toBe(200);
    for (let batch = 0; batch < 10_001; batch += 250) {
      const results = await Promise.all(
        Array.from({ length: Math.min(250, 10_001 - batch) }, (_, i) => call('POST', '/v1/keys/k1/sign', '{"message":', { 'idempotency-key': `flood-${batch + i}` })),
      );
      expect(results.every((r) => r.status === 400)).toBe(true);
    }
    const retry = await call('POST', '/v1/keys/k1/sign', { message: '01' }, { 'idempotency-key': 'victim' });
    expect(retry.body).toEqual(first.body);
    expect(service.calls).toEqual(['sign k1 01']);
  }, 120_000);

  it('errors are answers, not outcomes: a request refused (key disabled, overloaded) runs again when retried with its key', async () => {
    const { call, service } = await setup();
    const h = { 'idempotency-key': 'retry-me' };
    service.failWith = new ServiceError('key_disabled', 'key k1 is disabled');
    expect((await call('POST', '/v1/keys/k1/sign', { message: '02' }, h)).status).toBe(403);
    service.failWith = new ServiceError('overloaded', 'busy');
    expect((await call('POST', '/v1/keys/k1/sign', { message: '02' }, h)).status).toBe(429);
    service.failWith = undefined;
    const ok = await call('POST', '/v1/keys/k1/sign', { message: '02' }, h);
    expect(ok.status).toBe(200);
    expect((await call('POST', '/v1/keys/k1/sign', { message: '02' }, h)).body).toEqual(ok.body);
    expect(service.calls).toEqual(['sign k1 02', 'sign k1 02', 'sign k1 02']);
  });

  it('idempotency records belong to their token: another token\'s request with the same key and body runs on its own', async () => {
    const { call, service } = await setup();
    const h = { 'idempotency-key': 'shared-name' };
    expect((await call('POST', '/v1/keys/k1/sign', { message: '03' }, h)).status).toBe(200);
    expect((await call('POST', '/v1/keys/k1/sign', { message: '04' }, { ...h, authorization: 'Bearer signer-token-0123456789' })).status).toBe(200);
    expect(service.calls).toEqual(['sign k1 03', 'sign k1 04']);
  });

  it('disables, enables and destroys keys with the admin scope only', async () => {
    const { call, service } = await setup();
    expect((await call('POST', '/v1/keys/k1/disable', undefined, { authorization: 'Bearer signer-token-0123456789' })).status).toBe(403);
    expect((await call('POST', '/v1/keys/k1/disable')).body.status).toBe('disabled');
    expect((await call('POST', '/v1/keys/k1/enable')).body.status).toBe('active');
    expect((await call('DELETE', '/v1/keys/k1', undefined, { authorization: 'Bearer reader-token-0123456789' })).status).toBe(403);
    expect((await call('DELETE', '/v1/keys/k1')).body).toEqual({ id: 'k1', destroyed: true });
    expect((await call('POST', '/v1/keys/nope/disable')).status).toBe(404);
    expect(service.calls).toEqual(['status k1 disabled', 'status k1 active', 'destroy k1', 'status nope disabled']);
    service.failWith = new ServiceError('key_disabled', 'disabled');
    expect((await call('POST', '/v1/keys/k1/sign', { message: '00' })).body.error.code).toBe('key_disabled');
  });

  it('refresh, repair and reshare: admin scope only, strict bodies, and the service called with what was asked', async () => {
    const { call, service } = await setup();
    const signer = { authorization: 'Bearer signer-token-0123456789' };
    for (const [path, body] of [['/v1/keys/k1/refresh', undefined], ['/v1/keys/k1/repair', { node: 2 }], ['/v1/keys/k1/reshare', { nodes: [1, 2, 3], threshold: 2 }]] as const) {
      expect((await call('POST', path, body, signer)).status, path).toBe(403);
    }
    const bad: [string, unknown, string][] = [
      ['/v1/keys/k1/repair', {}, 'invalid_request'],
      ['/v1/keys/k1/repair', { node: '2' }, 'invalid_request'],
      ['/v1/keys/k1/repair', { node: 2, extra: 1 }, 'invalid_request'],
      ['/v1/keys/k1/reshare', { nodes: 'all', threshold: 2 }, 'invalid_request'],
      ['/v1/keys/k1/reshare', { nodes: [1, 2.5], threshold: 2 }, 'invalid_request'],
      ['/v1/keys/k1/reshare', { nodes: [1, 2, 3], threshold: 'two' }, 'invalid_threshold'],
    ];
    for (const [path, body, code] of bad) expect((await call('POST', path, body)).body.error.code, JSON.stringify(body)).toBe(code);
    expect(service.calls).toEqual([]);
    expect((await call('POST', '/v1/keys/k1/refresh')).body).toMatchObject({ id: 'k1', epoch: 1 });
    expect((await call('POST', '/v1/keys/k1/repair', { node: 2 })).body).toEqual({ id: 'k1', repaired: 2 });
    expect((await call('POST', '/v1/keys/k1/reshare', { nodes: [1, 2, 3], threshold: 3 })).body).toMatchObject({ nodes: [1, 2, 3], threshold: 3, epoch: 2 });
    expect(service.calls).toEqual(['refresh k1', 'repair k1 2', 'reshare k1 1,2,3 3']);
    expect((await call('GET', '/v1/keys/k1/refresh')).status).toBe(405);
  });

  it('streams session events over WebSocket, filtered by request id, for authenticated clients only', async () => {
    const { call, service } = await setup();
    const refused = new WebSocket(`ws://127.0.0.1:${api!.port}/v1/events`);
    const refusal = await new Promise<number>((resolve) => refused.on('unexpected-response', (_req, res) => resolve(res.statusCode!)).on('error', () => resolve(-1)));
    expect(refusal).toBe(401);
    const subscribe = async (query: string) => {
      const ws = new WebSocket(`ws://127.0.0.1:${api!.port}/v1/events?token=admin-token-0123456789${query}`);
      await new Promise((r) => ws.on('open', r));
      const events: any[] = [];
      ws.on('message', (d) => events.push(JSON.parse(d.toString())));
      return { ws, events };
    };
    const all = await subscribe('');
    service.hold();
    const first = call('POST', '/v1/keys/k1/sign', { message: '00' });
    // The first request's id, from its 'started' event, before it completes.
    await expect.poll(() => all.events.length).toBe(1);
    const firstId = all.events[0].requestId as string;
    const filtered = await subscribe(`&requestId=${firstId}`);
    const second = call('POST', '/v1/keys/k1/sign', { message: '01' });
    await expect.poll(() => all.events.length).toBe(2);
    service.release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.headers.get('x-request-id')).toBe(firstId);
    await expect.poll(() => all.events.filter((e) => e.type === 'completed').map((e) => e.requestId).sort()).toEqual([firstId, b.headers.get('x-request-id')].sort());
    // A ping's pong comes after everything the server sent that socket before it: both requests' events included.
    await new Promise((r) => {
      filtered.ws.once('pong', r);
      filtered.ws.ping();
    });
    // The filtered socket saw the first request's completion and nothing of the second.
    expect(filtered.events).toEqual([expect.objectContaining({ requestId: firstId, type: 'completed', ok: true })]);
    for (const s of [all, filtered]) s.ws.close();
  });

  it('a subscriber sees only its own token\'s events; an admin token sees every request\'s', async () => {
    const { call } = await setup();
    const subscribe = async (token: string) => {
      const ws = new WebSocket(`ws://127.0.0.1:${api!.port}/v1/events?token=${token}`);
      await new Promise((r) => ws.on('open', r));
      const seen: string[] = [];
      ws.on('message', (d) => seen.push(JSON.parse(d.toString()).requestId));
      return { ws, seen };
    };
    const reader = await subscribe('reader-token-0123456789');
    const signer = await subscribe('signer-token-0123456789');
    const admin = await subscribe('admin-token-0123456789');
    const mine = await call('POST', '/v1/keys/k1/sign', { message: '05' }, { authorization: 'Bearer signer-token-0123456789' });
    const theirs = await call('POST', '/v1/keys/k1/sign', { message: '06' });
    const [a, b] = [mine.headers.get('x-request-id')!, theirs.headers.get('x-request-id')!];
    await expect.poll(() => admin.seen.includes(a) && admin.seen.includes(b)).toBe(true);
    // One more of the signer's own: events reach a socket in order, so once it is there, b would be too.
    const later = (await call('POST', '/v1/keys/k1/sign', { message: '07' }, { authorization: 'Bearer signer-token-0123456789' })).headers.get('x-request-id')!;
    await expect.poll(() => signer.seen.includes(a) && signer.seen.includes(later)).toBe(true);
    expect(signer.seen).not.toContain(b);
    expect(reader.seen).toEqual([]);
    for (const s of [reader, signer, admin]) s.ws.close();
  });
});
