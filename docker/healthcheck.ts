/** Container health: the member's own endpoint from its config (coordinator /v1/health, node /healthz). */
import { readFileSync } from 'node:fs';

const config = JSON.parse(readFileSync(process.env.MPC_CONFIG ?? '', 'utf8')) as { id?: number; http?: { port: number } };
const path = config.id === undefined ? '/v1/health' : '/healthz';
const res = await fetch(`http://127.0.0.1:${config.http?.port ?? 7700}${path}`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
process.exit(res?.ok ? 0 : 1);
