/**
 * The handler of every route of the contract (contract/api.ts). Requests arrive already checked
 * against the route's zod schemas (shape, types, unknown fields); a handler checks what needs
 * the service's state (the key's scheme, the cluster's nodes) and calls the SigningService.
 * `server.ts` does authentication, deadlines, limits and idempotency around them.
 */
import type { z } from 'zod';
import { ROUTES, type ResponseOf, type RouteName } from '../../contract/api.ts';
import { isScheme, SCHEMES, signableMessageProblem, type BitcoinNetwork, type Scheme } from '../../protocol/schemes/index.ts';
import { childView, keyView } from '../key-view.ts';
import { DerivationError, parsePath } from '../../protocol/derive.ts';
import { policyBytes } from '../../cluster/policy/document.ts';
import type { PendingView } from '../engine/pending.ts';
import type { CreateKeyRequest, KeyInfo, PolicyView, RequestContext, SignRequest, SignResult, SigningService } from '../service.ts';
import { HttpError } from './http.ts';

type Input<N extends RouteName, P extends 'params' | 'query' | 'body'> = (typeof ROUTES)[N] extends { [K in P]: infer S extends z.ZodType } ? z.output<S> : undefined;

/** What a handler gets: the service, the validated request parts, and the server's facilities. */
export interface RouteRequest<N extends RouteName> {
  readonly service: SigningService;
  readonly params: Input<N, 'params'>;
  readonly query: Input<N, 'query'>;
  readonly body: Input<N, 'body'>;
  /** The network addresses and extended keys are given for when the query does not name one. */
  readonly network: BitcoinNetwork;
  /** The request context: deadline from X-Request-Timeout-Ms, request id, event emitter. */
  context(): RequestContext;
  /** Runs a key generation, signature or lifecycle operation within the in-flight limit (429 beyond it). */
  guarded<T>(f: () => Promise<T>): Promise<T>;
  /** Runs `f` once per Idempotency-Key (when the client sent one); the answer is kept with its status. */
  idempotent(status: number, run: () => Promise<unknown>): Promise<StatusReply>;
  /** The readiness rule the server was configured with. */
  ready(): boolean;
}

/** An answer with its own status (and headers): what an Idempotency-Key replays, success or error. */
export class StatusReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** A handler's answer: the body (with the route's success status), or a StatusReply. */
export type Answer<N extends RouteName> = ResponseOf<N> | StatusReply;
export type Handlers = { readonly [N in RouteName]: (r: RouteRequest<N>) => Promise<Answer<N>> };

/** The lifecycle methods are optional on a SigningService; a route whose method is missing answers 400 unsupported. */
function capability<K extends keyof SigningService>(service: SigningService, method: K, what: string): NonNullable<SigningService[K]> {
  const f = service[method];
  if (!f) throw new HttpError(400, 'unsupported', `this service cannot ${what}`);
  return (f as (...args: never[]) => unknown).bind(service) as NonNullable<SigningService[K]>;
}

async function keyOr404(service: SigningService, id: string): Promise<KeyInfo> {
  const key = await service.getKey(id);
  if (!key) throw new HttpError(404, 'key_not_found', `no key ${id}`);
  return key;
}

export const HANDLERS: Handlers = {
  healthz: async () => ({ status: 'alive' as const }),
  readyz: async (r) => {
    if (!r.ready()) throw new HttpError(503, 'not_ready', 'too few nodes are online to sign', { 'retry-after': '1' });
    return { status: 'ready' as const };
  },
  health: async (r) => {
    const h = r.service.health();
    return { status: h.status, nodes: h.nodes.map((n) => ({ id: n.id, online: n.online })) };
  },
  listKeys: async (r) => {
    const { network, ...query } = r.query;
    const page = await r.service.listKeys(query);
    return { keys: page.keys.map((k) => keyView(k, network ?? r.network)), ...(page.next ? { next: page.next } : {}) };
  },
  createKey: async (r) => {
    // Checked before any idempotency record exists: invalid requests leave none behind.
    const request = checkCreateKey(r.body, r.service);
    const context = r.context();
    return r.idempotent(201, () => r.guarded(async () => keyView(await r.service.createKey(request, context), r.network)));
  },
  getKey: async (r) => keyView(await keyOr404(r.service, r.params.id), r.query.network ?? r.network),
  getChild: async (r) => childView(await keyOr404(r.service, r.params.id), r.query.path, r.query.network ?? r.network),
  sign: async (r) => {
    const context = r.context();
    const key = await keyOr404(r.service, r.params.id);
    const request = checkSign(r.body, key.scheme);
    return r.idempotent(200, () => r.guarded(() => r.service.sign(key.id, request, context)));
  },
  disableKey: async (r) => keyView(await capability(r.service, 'setKeyStatus', 'change key status')(r.params.id, 'disabled'), r.network),
  enableKey: async (r) => keyView(await capability(r.service, 'setKeyStatus', 'change key status')(r.params.id, 'active'), r.network),
  refreshKey: async (r) => {
    const refresh = capability(r.service, 'refreshKey', 'refresh keys');
    const context = r.context();
    return keyView(await r.guarded(() => refresh(r.params.id, context)), r.network);
  },
  repairKey: async (r) => {
    const repair = capability(r.service, 'repairKey', 'repair shares');
    const context = r.context();
    await r.guarded(() => repair(r.params.id, r.body.node, context));
    return { id: r.params.id, repaired: r.body.node };
  },
  reshareKey: async (r) => {
    const reshare = capability(r.service, 'reshareKey', 'reshare keys');
    const context = r.context();
    return keyView(await r.guarded(() => reshare(r.params.id, { nodes: r.body.nodes, threshold: r.body.threshold }, context)), r.network);
  },
  submitRequest: async (r) => {
    const submit = capability(r.service, 'submitForApproval', 'keep requests for approval');
    const context = r.context();
    const key = await keyOr404(r.service, r.params.id);
    return pendingAnswer(await submit(key.id, checkSign(r.body, key.scheme), context));
  },
  getRequest: async (r) => pendingAnswer(capability(r.service, 'pendingRequest', 'keep requests for approval')(r.params.id)),
  approveRequest: async (r) => pendingAnswer(capability(r.service, 'approveRequest', 'keep requests for approval')(r.params.id, r.body.approver, new Uint8Array(Buffer.from(r.body.signature, 'hex')))),
  getPolicy: async (r) => policyAnswer(capability(r.service, 'policy', 'keep a signing policy')()),
  proposePolicy: async (r) => {
    const propose = capability(r.service, 'proposePolicy', 'keep a signing policy');
    const document = policyBytes(r.body.policy);
    const signatures = r.body.signatures.map((s) => ({
      admin: s.admin,
      signature: new Uint8Array(Buffer.from(s.signature, 'hex')),
      ...(s.mldsaSignature ? { mldsaSignature: new Uint8Array(Buffer.from(s.mldsaSignature, 'hex')) } : {}),
    }));
    return policyAnswer(await r.guarded(() => propose(document, signatures)));
  },
  destroyKey: async (r) => {
    const destroy = capability(r.service, 'destroyKey', 'destroy keys');
    const context = r.context();
    await r.guarded(() => destroy(r.params.id, context));
    return { id: r.params.id, destroyed: true as const };
  },
};

function signAnswer(result: SignResult): ResponseOf<'sign'> {
  const { signers, receipts, ...rest } = result;
  return { ...rest, signers: [...signers], ...(receipts ? { receipts: receipts.map((x) => ({ ...x })) } : {}) };
}

function pendingAnswer(view: PendingView): Answer<'getRequest'> {
  const { result, error, ...rest } = view;
  return {
    ...rest,
    approval: { ...view.approval },
    approvedBy: [...view.approvedBy],
    ...(result ? { result: signAnswer(result) } : {}),
    ...(error ? { error: { ...error } } : {}),
  };
}

const policyAnswer = (view: PolicyView): Answer<'getPolicy'> => ({ ...view, signatures: view.signatures.map((s) => ({ ...s })), nodes: view.nodes.map((n) => ({ ...n })) });

function checkCreateKey(body: Input<'createKey', 'body'>, service: SigningService): CreateKeyRequest {
  if (!isScheme(body.scheme)) throw new HttpError(400, 'unknown_scheme', `scheme must be one of ${SCHEMES.join(', ')}`);
  const cluster = service.health().nodes.map((n) => n.id);
  if (body.nodes) {
    if (new Set(body.nodes).size !== body.nodes.length) throw new HttpError(400, 'invalid_request', 'nodes must not repeat');
    const unknown = body.nodes.filter((n) => !cluster.includes(n));
    if (unknown.length) throw new HttpError(400, 'unknown_node', `no node ${unknown.join(', ')} in this cluster`);
  }
  const n = body.nodes?.length ?? cluster.length;
  if (body.threshold !== undefined && body.threshold > n) throw new HttpError(400, 'invalid_threshold', `threshold must be an integer in [2, ${n}]`);
  return body;
}

function checkSign(body: Input<'sign', 'body'>, scheme: Scheme): SignRequest {
  const message = new Uint8Array(Buffer.from(body.message, 'hex'));
  // The digest rule is checked by the engine once the hash is applied (or the transaction
  // decoded); the message rule here.
  if (!body.hash && !body.transaction) {
    const problem = signableMessageProblem(scheme, message);
    if (problem) throw new HttpError(400, 'invalid_message_length', problem);
  }
  if (body.derivationPath !== undefined) {
    try {
      parsePath(body.derivationPath);
    } catch (e) {
      throw new HttpError(400, e instanceof DerivationError && e.code === 'hardened' ? 'unsupported' : 'invalid_path', (e as Error).message);
    }
  }
  return {
    message,
    ...(body.hash ? { hash: body.hash } : {}),
    ...(body.derivationPath !== undefined ? { derivationPath: body.derivationPath } : {}),
    ...(body.taproot ? { taproot: body.taproot.merkleRoot ? { merkleRoot: new Uint8Array(Buffer.from(body.taproot.merkleRoot, 'hex')) } : {} } : {}),
    ...(body.transaction ? { transaction: body.transaction } : {}),
    ...(body.input !== undefined ? { input: body.input } : {}),
    ...(body.digest ? { expectedDigest: new Uint8Array(Buffer.from(body.digest, 'hex')) } : {}),
    ...(body.requestId ? { requestId: body.requestId } : {}),
    ...(body.deadline !== undefined ? { deadline: body.deadline } : {}),
    ...(body.approvals ? { approvals: body.approvals.map((a) => ({ approver: a.approver, signature: new Uint8Array(Buffer.from(a.signature, 'hex')) })) } : {}),
  };
}
