/**
 * The HTTP layer's own cost per request (`npm run bench -- http`): the real API server (Fastify,
 * contract validation and serialisation, token check) in front of a service that answers at
 * once, driven by the typed client and by bare fetch over loopback. Signing itself costs tens
 * of milliseconds (`bench:cluster`); this shows what the API adds to it.
 */
import { MpcClient } from '../client/index.ts';
import { createApiServer } from '../coordinator/api/server.ts';
import type { KeyInfo, SigningService } from '../coordinator/service.ts';
import { measure, printTable } from './stats.ts';

const KEY: KeyInfo = { id: 'k1', scheme: 'eddsa-ed25519', threshold: 2, nodes: [1, 2, 3], publicKey: 'aa'.repeat(32), chainCode: 'bb'.repeat(32), createdAt: '2026-01-01T00:00:00Z', status: 'active', epoch: 0 };
const service: SigningService = {
  health: () => ({ status: 'ok', nodes: [{ id: 1, online: true }] }),
  createKey: async () => KEY,
  listKeys: async () => ({ keys: [KEY] }),
  getKey: async () => KEY,
  sign: async () => ({ signature: 'cc'.repeat(64), publicKey: KEY.publicKey, signers: [1, 2] }),
};

export async function run(): Promise<void> {
  const token = 'bench-token-0123456789abcdef0123456789';
  const api = await createApiServer({ service, port: 0, tokens: [{ token, scopes: ['admin'] }] });
  try {
    const base = `http://127.0.0.1:${api.port}`;
    const body = JSON.stringify({ message: '00'.repeat(64) });
    const bare = async () => {
      const res = await fetch(`${base}/v1/keys/k1/sign`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
      await res.text();
    };
    const plain = new MpcClient({ baseUrl: base, token, idempotencyKeys: false, retries: 0 });
    const idempotent = new MpcClient({ baseUrl: base, token, retries: 0 });
    const rows = [
      await measure('sign, bare fetch', bare, 3000, 300),
      await measure('sign, typed client', () => plain.sign('k1', { message: '00'.repeat(64) }), 3000, 300),
      { ...(await measure('sign, typed client + Idempotency-Key', () => idempotent.sign('k1', { message: '00'.repeat(64) }), 3000, 300)), note: 'records kept in memory here (LevelDB in a coordinator)' },
      await measure('GET key (key view: addresses)', () => plain.getKey('k1'), 3000, 300),
    ];
    printTable('HTTP layer per request (loopback, instant service)', rows);
  } finally {
    await api.close();
  }
}
