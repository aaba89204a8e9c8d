/**
 * How the typed client exchanges one HTTP request and its answer. By default over `node:http`
 * (or `node:https`) with a keep-alive agent: on a loopback load test the global `fetch` cost the
 * client about three times the CPU per request (undici's WHATWG streams and Response objects),
 * which a client that signs at a high rate pays on every call. A `fetch` can still be given
 * instead (tests that record answers, proxies).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** An answer: status, headers by lower-case name, the body as text. */
export interface HttpAnswer {
  readonly status: number;
  header(name: string): string | undefined;
  readonly text: string;
}

export interface HttpExchange {
  send(method: string, url: string, headers: Readonly<Record<string, string>>, body?: string): Promise<HttpAnswer>;
  /** Closes idle connections (nothing to close for `fetch`). */
  close(): void;
}

export interface NodeExchangeOptions {
  /** Trust anchors for an HTTPS coordinator, replacing the system's (PEM). */
  readonly ca?: string | Uint8Array;
}

/** A connection that sends nothing for this long fails the request (undici's default for `fetch`, as before). */
const IDLE_TIMEOUT_MS = 300_000;

/** `node:http`/`node:https` over one keep-alive agent per client. */
export function nodeExchange(baseUrl: URL, opts: NodeExchangeOptions = {}): HttpExchange {
  const tls = baseUrl.protocol === 'https:';
  // Idle sockets do not keep a process alive (the agent unrefs them), and Node's agent closes
  // them before the server's Keep-Alive timeout runs out.
  const agent = tls ? new HttpsAgent({ keepAlive: true, ...(opts.ca ? { ca: Buffer.from(opts.ca) } : {}) }) : new HttpAgent({ keepAlive: true });
  const request = tls ? httpsRequest : httpRequest;
  return {
    send: (method, url, headers, body) =>
      new Promise<HttpAnswer>((resolve, reject) => {
        const req = request(url, { method, agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, header: (name) => headerOf(res, name), text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`)));
        req.on('error', reject);
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

function headerOf(res: IncomingMessage, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A `fetch` implementation instead (the global one, or a test's). */
export function fetchExchange(fetchImpl: typeof fetch): HttpExchange {
  return {
    send: async (method, url, headers, body) => {
      const res = await fetchImpl(url, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      return { status: res.status, header: (name) => res.headers.get(name) ?? undefined, text };
    },
    close: () => undefined,
  };
}
