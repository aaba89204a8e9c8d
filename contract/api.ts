/**
 * The HTTP API contract, written once as zod schemas: the coordinator validates requests and
 * serialises answers with them (coordinator/api/), the OpenAPI document at `/v1/openapi.json` is
 * generated from them, and the typed client (client/) takes its types from them. A route exists
 * here or nowhere: the server must give every route a handler, and a test checks every route is
 * in the generated document.
 */
import { z } from 'zod';
import { MAX_PATH_CHARS } from '../protocol/derive.ts';
import { BITCOIN_NETWORKS, MESSAGE_HASHES, SCHEMES, type Scheme } from '../protocol/schemes/index.ts';
import { policySchema } from './policy.ts';

export const SCOPES = ['keys:create', 'keys:read', 'sign', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const hex = (what: string) => z.string().regex(/^(?:[0-9a-fA-F]{2})*$/, `${what} must be an even-length hex string`);
const hexBytes = (what: string, bytes: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `${what} must be ${bytes} bytes of hex`);

export const SchemeSchema = z.enum(SCHEMES as [Scheme, ...Scheme[]]).meta({ id: 'Scheme' });
export const NetworkSchema = z.enum(BITCOIN_NETWORKS).meta({ id: 'BitcoinNetwork', description: 'Bitcoin network for addresses and extended keys (tpub on test networks)' });
const NodeIdSchema = z.number().int().min(1).max(65535);
const KeyIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a key id is 1 to 128 characters of A-Z, a-z, 0-9, _ and -');

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string().regex(/^[a-z_]+$/), message: z.string() }) })
  .meta({ id: 'Error', description: 'Every error: a stable code for programs, a message for people' });

export const AddressesSchema = z
  .object({
    ethereum: z.string().optional().describe('EIP-55 checksummed (ecdsa-secp256k1)'),
    p2wpkh: z.string().optional().describe('Bitcoin SegWit v0 (ecdsa-secp256k1)'),
    p2tr: z.string().optional().describe('Bitcoin Taproot of the BIP86 output key (schnorr-bip340)'),
    solana: z.string().optional().describe('base58 (eddsa-ed25519)'),
  })
  .meta({ id: 'Addresses' });

export const TaprootKeysSchema = z
  .object({
    internalKey: hexBytes('internalKey', 32).optional().describe('x-only internal key P (absent for keys made before 0.2, whose internal key is unknown)'),
    outputKey: hexBytes('outputKey', 32).describe('x-only BIP86 output key Q = P + H_TapTweak(P)·G'),
  })
  .meta({ id: 'TaprootKeys' });

const CustodySchema = z.object({ minThreshold: z.number().int(), minParties: z.number().int(), members: z.array(NodeIdSchema) });

export const KeySchema = z
  .object({
    id: KeyIdSchema,
    scheme: SchemeSchema,
    threshold: z.number().int().min(2),
    nodes: z.array(NodeIdSchema),
    publicKey: hex('publicKey').describe('ECDSA 33-byte compressed SEC1, Ed25519 32 bytes, BIP340 32-byte x-only internal key'),
    chainCode: hexBytes('chainCode', 32).describe('agreed at key generation, for non-hardened derivation'),
    groupKey: hex('groupKey').optional().describe('full group point (SEC1 compressed on secp256k1; BIP340 keeps its parity here)'),
    xpub: z.string().optional().describe('BIP32 extended public key of the root (secp256k1 schemes; tpub on test networks)'),
    network: NetworkSchema,
    addresses: AddressesSchema,
    taproot: TaprootKeysSchema.optional(),
    createdAt: z.string().describe('ISO 8601'),
    status: z.enum(['active', 'disabled']),
    epoch: z.number().int().min(0),
    label: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    custody: CustodySchema.optional(),
  })
  .meta({ id: 'Key' });

export const ChildKeySchema = z
  .object({
    keyId: KeyIdSchema,
    path: z.string(),
    publicKey: hex('publicKey').describe("the child's user-facing key (BIP340: its x-only internal key)"),
    network: NetworkSchema,
    addresses: AddressesSchema,
    taproot: TaprootKeysSchema.optional(),
  })
  .meta({ id: 'ChildKey' });

export const KeyPageSchema = z.object({ keys: z.array(KeySchema), next: z.string().optional().describe('cursor of the next page; absent on the last') }).meta({ id: 'KeyPage' });

const LabelSchema = z.string().min(1).max(128);
const MetadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(256))
  .refine((m) => Object.keys(m).length <= 16, 'metadata has at most 16 entries')
  .describe('at most 16 entries, names ≤ 64 and values ≤ 256 characters');

export const CreateKeyBodySchema = z
  .strictObject({
    scheme: SchemeSchema,
    threshold: z.number().int().min(2).optional(),
    nodes: z.array(NodeIdSchema).min(2).optional(),
    label: LabelSchema.optional(),
    metadata: MetadataSchema.optional(),
  })
  .meta({ id: 'CreateKey' });

export const TaprootSpendSchema = z
  .strictObject({ merkleRoot: hexBytes('merkleRoot', 32).optional() })
  .meta({ id: 'TaprootSpend', description: '{} for a BIP86 key-path spend; { merkleRoot } for an output that also commits to a script tree' });

export const SignBodySchema = z
  .strictObject({
    message: hex('message').describe('ECDSA and BIP340: the 32-byte digest; Ed25519: the message (≤ 64 KiB); with `hash`: the preimage (≤ 64 KiB)'),
    hash: z.enum(MESSAGE_HASHES).optional().describe('the nodes hash `message` with this themselves (eip191: Ethereum personal message)'),
    derivationPath: z.string().max(MAX_PATH_CHARS).optional().describe('non-hardened BIP32 path such as m/0/1'),
    taproot: TaprootSpendSchema.optional().describe('schnorr-bip340 only; absent: plain BIP340 under the (child) internal key'),
    transaction: z
      .enum(['ethereum', 'psbt', 'solana'])
      .optional()
      .describe('`message` is an unsigned transaction in this format (Ethereum EIP-2718, Bitcoin PSBT, Solana message): each node decodes it, computes what it signs, and applies its policy to it'),
    input: z.number().int().min(0).max(65535).optional().describe('psbt: the input to sign (default 0)'),
    digest: hexBytes('digest', 32).optional().describe('with a transaction: the digest you expect; refused when the transaction has another'),
    requestId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/).optional().describe('unique id the approvals name; required with approvals'),
    deadline: z.number().int().min(0).optional().describe('unix seconds: the approvals expire then'),
    approvals: z
      .array(z.strictObject({ approver: z.string().min(1).max(64), signature: hexBytes('signature', 64) }))
      .max(32)
      .optional()
      .describe('approvers\' Ed25519 signatures over the canonical request (README, "Policy")'),
  })
  .meta({ id: 'SignRequest' });

export const ReceiptSchema = z
  .object({
    node: NodeIdSchema,
    receipt: z.string().describe('canonical JSON the node signed: node, keyId, session, requestId, signed, decision, rule, policyVersion, policyHash, at'),
    signature: hexBytes('signature', 64).describe('Ed25519 with the node\'s identity key over "mpc-signer/receipt/v1\\n" + receipt'),
  })
  .meta({ id: 'Receipt' });

export const SignResultSchema = z
  .object({
    signature: hex('signature').describe('ECDSA 64-byte r‖s (low S), Ed25519 and BIP340 64 bytes'),
    publicKey: hex('publicKey').describe('the key the signature verifies under (child, or Taproot output key)'),
    signers: z.array(NodeIdSchema),
    recoveryId: z.union([z.literal(0), z.literal(1)]).optional().describe('ECDSA: yParity'),
    r: hexBytes('r', 32).optional(),
    s: hexBytes('s', 32).optional(),
    der: hex('der').optional().describe('ECDSA: strict DER, low S'),
    digest: hexBytes('digest', 32).optional().describe('what the nodes signed, when `hash` or a transaction (Ethereum, PSBT) was given'),
    receipts: z.array(ReceiptSchema).optional().describe('each signer\'s signed decision, when a policy is in force'),
  })
  .meta({ id: 'SignResult' });

export const ApprovalRequestSchema = z
  .object({
    requestId: z.string(),
    keyId: KeyIdSchema,
    messageSha256: hexBytes('messageSha256', 32).describe('SHA-256 of the message, preimage or transaction bytes'),
    hash: z.string(),
    transaction: z.string(),
    input: z.number().int(),
    derivationPath: z.string(),
    taproot: z.string().nullable().describe('null: no Taproot spend; "": BIP86; else the merkle root'),
    deadline: z.number().int().describe('unix seconds'),
  })
  .meta({ id: 'ApprovalRequest', description: 'what an approver signs: Ed25519 over "mpc-signer/approval/v1\\n" + canonical JSON (RFC 8785) of this object' });

export const PendingRequestSchema = z
  .object({
    requestId: z.string(),
    keyId: KeyIdSchema,
    status: z.enum(['awaiting_approvals', 'signing', 'signed', 'failed', 'expired']),
    approval: ApprovalRequestSchema,
    message: hex('message').describe('the message, preimage or transaction, for approvers to read; its SHA-256 is approval.messageSha256'),
    required: z.number().int(),
    approvedBy: z.array(z.string()),
    result: SignResultSchema.optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .meta({ id: 'PendingRequest' });

const RequestParams = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/) });

const AdminSignatureSchema = z.strictObject({
  admin: z.string().min(1).max(64),
  signature: hexBytes('signature', 64).describe('Ed25519 over "mpc-signer/policy-signature/v1\\n" + the 32-byte policy hash'),
  mldsaSignature: hex('mldsaSignature').optional().describe('ML-DSA-65 over the same, for administrators whose manifest entry pins an ML-DSA key'),
});

export const PolicyProposalSchema = z
  .strictObject({ policy: policySchema, signatures: z.array(AdminSignatureSchema).min(1).max(64) })
  .meta({ id: 'PolicyProposal', description: 'a policy version and its administrators\' signatures' });

export const PolicyViewSchema = z
  .object({
    version: z.number().int().min(0).describe('0: no policy (nodes sign what the coordinator asks)'),
    hash: hexBytes('hash', 32).describe('SHA-256 over "mpc-signer/policy/v1\\n" + canonical JSON (RFC 8785) of the policy'),
    policy: policySchema.optional(),
    signatures: z.array(AdminSignatureSchema),
    nodes: z.array(z.object({ id: NodeIdSchema, version: z.number().int().optional(), hash: hexBytes('hash', 32).optional(), error: z.string().optional() })).describe('the version each node reported'),
  })
  .meta({ id: 'PolicyView' });

export const HealthSchema = z.object({ status: z.enum(['ok', 'degraded']), nodes: z.array(z.object({ id: NodeIdSchema, online: z.boolean() })) }).meta({ id: 'Health' });
export const RepairBodySchema = z.strictObject({ node: NodeIdSchema.describe('the node whose share is lost') });
export const ReshareBodySchema = z.strictObject({ nodes: z.array(NodeIdSchema).min(2), threshold: z.number().int().min(2) });

const NetworkQuery = z.strictObject({ network: NetworkSchema.optional() });
export const ListKeysQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(512).optional(),
  label: LabelSchema.optional(),
  network: NetworkSchema.optional(),
});
export const ChildQuerySchema = z.strictObject({ path: z.string().min(1).max(MAX_PATH_CHARS), network: NetworkSchema.optional() });
const KeyParams = z.strictObject({ id: KeyIdSchema });

/**
 * What the WebSocket stream `GET /v1/events` (token in `?token=` or the Authorization header,
 * optional `?requestId=`) sends, one JSON object per message: the progress of the sessions the
 * token's own requests started (every request's, for admin tokens).
 */
const NodeIds = z.array(NodeIdSchema);
export const SessionEventSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('started'), session: z.string(), operation: z.enum(['keygen', 'sign', 'refresh', 'reshare', 'repair', 'destroy']), keyId: z.string().optional(), nodes: NodeIds }),
    z.object({ type: z.literal('node_done'), session: z.string(), node: NodeIdSchema, done: z.number().int(), of: z.number().int() }),
    z.object({ type: z.literal('round'), session: z.string(), round: z.number().int() }),
    z.object({ type: z.literal('signer_failed'), session: z.string(), node: NodeIdSchema, reason: z.string() }),
    z.object({ type: z.literal('retried'), session: z.string(), attempt: z.number().int(), nodes: NodeIds }),
    z.object({ type: z.literal('completed'), session: z.string(), ok: z.boolean(), error: z.string().optional() }),
    z.object({ type: z.literal('approval'), request: z.string(), approver: z.string(), have: z.number().int(), need: z.number().int() }),
  ])
  .and(z.object({ requestId: z.string() }))
  .meta({ id: 'SessionEvent' });
export type SessionEventMessage = z.infer<typeof SessionEventSchema>;

/** One route of the contract. `status` is its success status. */
export interface RouteContract {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  /** Needed token scope; routes without one are public. */
  readonly scope?: Scope;
  readonly summary: string;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly status: number;
  readonly response: z.ZodType;
  /** Statuses of errors this route answers with (ErrorSchema), beyond 401/403 of authenticated routes. */
  readonly errors: readonly number[];
  /** Accepts an Idempotency-Key header. */
  readonly idempotent?: true;
}

const route = <R extends RouteContract>(r: R): R => r;

export const ROUTES = {
  healthz: route({ method: 'GET', path: '/healthz', summary: 'Liveness: the process answers', status: 200, response: z.object({ status: z.literal('alive') }), errors: [] }),
  readyz: route({ method: 'GET', path: '/readyz', summary: 'Readiness: enough nodes are online to sign', status: 200, response: z.object({ status: z.literal('ready') }), errors: [503] }),
  health: route({ method: 'GET', path: '/v1/health', summary: 'Which nodes are online', status: 200, response: HealthSchema, errors: [] }),
  listKeys: route({ method: 'GET', path: '/v1/keys', scope: 'keys:read', summary: 'Keys in creation order, a page at a time, optionally by label', query: ListKeysQuerySchema, status: 200, response: KeyPageSchema, errors: [400] }),
  createKey: route({
    method: 'POST',
    path: '/v1/keys',
    scope: 'keys:create',
    summary: 'Generate a key by DKG on the chosen nodes',
    body: CreateKeyBodySchema,
    status: 201,
    response: KeySchema,
    errors: [400, 409, 413, 415, 429, 503, 504],
    idempotent: true,
  }),
  getKey: route({ method: 'GET', path: '/v1/keys/:id', scope: 'keys:read', summary: 'A key, its addresses and (BIP340) Taproot keys', params: KeyParams, query: NetworkQuery, status: 200, response: KeySchema, errors: [400, 404] }),
  getChild: route({
    method: 'GET',
    path: '/v1/keys/:id/children',
    scope: 'keys:read',
    summary: 'A derived child (non-hardened path): its key, addresses and Taproot keys',
    params: KeyParams,
    query: ChildQuerySchema,
    status: 200,
    response: ChildKeySchema,
    errors: [400, 404],
  }),
  sign: route({
    method: 'POST',
    path: '/v1/keys/:id/sign',
    scope: 'sign',
    summary: 'Sign a digest, a message, or a preimage the nodes hash',
    params: KeyParams,
    body: SignBodySchema,
    status: 200,
    response: SignResultSchema,
    errors: [400, 403, 404, 409, 413, 415, 429, 503, 504],
    idempotent: true,
  }),
  disableKey: route({ method: 'POST', path: '/v1/keys/:id/disable', scope: 'admin', summary: 'Refuse to sign with a key until enabled', params: KeyParams, status: 200, response: KeySchema, errors: [400, 404] }),
  enableKey: route({ method: 'POST', path: '/v1/keys/:id/enable', scope: 'admin', summary: 'Sign with a disabled key again', params: KeyParams, status: 200, response: KeySchema, errors: [400, 404] }),
  refreshKey: route({ method: 'POST', path: '/v1/keys/:id/refresh', scope: 'admin', summary: 'Proactive refresh: new shares, same key', params: KeyParams, status: 200, response: KeySchema, errors: [400, 404, 429, 503, 504] }),
  repairKey: route({
    method: 'POST',
    path: '/v1/keys/:id/repair',
    scope: 'admin',
    summary: "Rebuild a node's lost share with t other holders",
    params: KeyParams,
    body: RepairBodySchema,
    status: 200,
    response: z.object({ id: KeyIdSchema, repaired: NodeIdSchema }),
    errors: [400, 404, 429, 503, 504],
  }),
  reshareKey: route({
    method: 'POST',
    path: '/v1/keys/:id/reshare',
    scope: 'admin',
    summary: 'Move a key to a new committee and/or threshold; the public key stays',
    params: KeyParams,
    body: ReshareBodySchema,
    status: 200,
    response: KeySchema,
    errors: [400, 404, 429, 503, 504],
  }),
  submitRequest: route({
    method: 'POST',
    path: '/v1/keys/:id/requests',
    scope: 'sign',
    summary: 'A sign request that waits for its approvers; signed once the rule\'s count of approvals is in',
    params: KeyParams,
    body: SignBodySchema,
    status: 201,
    response: PendingRequestSchema,
    errors: [400, 403, 404, 413, 415],
  }),
  getRequest: route({ method: 'GET', path: '/v1/requests/:id', scope: 'sign', summary: 'A waiting request: what approvers sign, who approved, and its signature once made', params: RequestParams, status: 200, response: PendingRequestSchema, errors: [404] }),
  approveRequest: route({
    method: 'POST',
    path: '/v1/requests/:id/approvals',
    scope: 'sign',
    summary: "An approver's signature of a waiting request",
    params: RequestParams,
    body: z.strictObject({ approver: z.string().min(1).max(64), signature: hexBytes('signature', 64) }),
    status: 200,
    response: PendingRequestSchema,
    errors: [400, 403, 404, 413, 415],
  }),
  getPolicy: route({ method: 'GET', path: '/v1/policy', scope: 'keys:read', summary: 'The signing policy in force and the version each node enforces', status: 200, response: PolicyViewSchema, errors: [] }),
  proposePolicy: route({
    method: 'POST',
    path: '/v1/policy',
    scope: 'admin',
    summary: 'Apply a policy version signed by the administrators\' quorum (each node checks the signatures itself)',
    body: PolicyProposalSchema,
    status: 200,
    response: PolicyViewSchema,
    errors: [400, 403, 413, 415],
  }),
  destroyKey: route({ method: 'DELETE', path: '/v1/keys/:id', scope: 'admin', summary: 'Erase every share of a key (crypto-shredding)', params: KeyParams, status: 200, response: z.object({ id: KeyIdSchema, destroyed: z.literal(true) }), errors: [400, 404, 503, 504] }),
} as const;

export type RouteName = keyof typeof ROUTES;
export type Key = z.infer<typeof KeySchema>;
export type ChildKey = z.infer<typeof ChildKeySchema>;
export type KeyPage = z.infer<typeof KeyPageSchema>;
export type SignResult = z.infer<typeof SignResultSchema>;
export type Health = z.infer<typeof HealthSchema>;
export type CreateKeyBody = z.input<typeof CreateKeyBodySchema>;
export type SignBody = z.input<typeof SignBodySchema>;
export type PolicyView = z.infer<typeof PolicyViewSchema>;
export type PolicyProposal = z.input<typeof PolicyProposalSchema>;
export type Receipt = z.infer<typeof ReceiptSchema>;
export type PendingRequest = z.infer<typeof PendingRequestSchema>;
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

/** What a route answers on success. */
export type ResponseOf<N extends RouteName> = z.infer<(typeof ROUTES)[N]['response']>;
