/** Structured JSON logs (pino). Callers pass ids and outcomes, never secrets or message bodies. */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.MPC_LOG_LEVEL ?? 'info', base: { pid: process.pid, name } });
}

/** The `(event, fields)` shape the runtime and engine log through. */
export const logTo = (logger: Logger) => (event: string, fields: Record<string, unknown>) => logger.info({ event, ...fields });
