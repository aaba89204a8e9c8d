/** The API contract as an OpenAPI 3.1 document, served at `GET /v1/openapi.json`. */
import { SCHEMES } from '../../protocol/schemes/index.ts';

const hex = { type: 'string', pattern: '^([0-9a-fA-F]{2})*$' };
const error = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', pattern: '^[a-z_]+$' }, message: { type: 'string' } } } },
};
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]));
const key = {
  type: 'object',
  required: ['id', 'scheme', 'threshold', 'nodes', 'publicKey', 'chainCode', 'createdAt'],
  properties: {
    id: { type: 'string' },
    scheme: { $ref: '#/components/schemas/Scheme' },
    threshold: { type: 'integer', minimum: 2 },
    nodes: { type: 'array', items: { type: 'integer' } },
    publicKey: { ...hex, description: 'ECDSA 33-byte compressed, Ed25519 32 bytes, BIP340 32-byte x-only' },
    chainCode: { ...hex, description: '32 bytes, agreed at key generation' },
    groupKey: { ...hex, description: 'full group point (SEC1 compressed for secp256k1 schemes)' },
    xpub: { type: 'string', description: 'BIP32 extended public key of the root (secp256k1 schemes)' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};
const idempotency = { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 256 } };
const timeout = { name: 'X-Request-Timeout-Ms', in: 'header', required: false, schema: { type: 'integer', minimum: 1 } };

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'mpc-signer coordinator API', version: '1' },
  servers: [{ url: 'http://127.0.0.1:7700' }],
  security: [{ bearer: [] }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'scopes: keys:create, keys:read, sign, admin' } },
    schemas: { Error: error, Key: key, Scheme: { type: 'string', enum: SCHEMES } },
  },
  paths: {
    '/v1/health': {
      get: {
        security: [],
        summary: 'cluster health',
        responses: { '200': { description: 'ok or degraded', content: { 'application/json': { schema: { type: 'object', properties: { status: { enum: ['ok', 'degraded'] }, nodes: { type: 'array' } } } } } } },
      },
    },
    '/v1/keys': {
      get: { summary: 'list keys (keys:read)', responses: { '200': { description: '{keys:[Key]}' }, ...errors(401, 403) } },
      post: {
        summary: 'create a key by DKG (keys:create)',
        parameters: [idempotency, timeout],
        requestBody: {
          content: {
            'application/json': {
              schema: { type: 'object', required: ['scheme'], additionalProperties: false, properties: { scheme: { $ref: '#/components/schemas/Scheme' }, threshold: { type: 'integer' }, nodes: { type: 'array', items: { type: 'integer' } } } },
            },
          },
        },
        responses: { '201': { description: 'created', content: { 'application/json': { schema: { $ref: '#/components/schemas/Key' } } } }, ...errors(400, 401, 403, 409, 413, 415, 429, 503, 504) },
      },
    },
    '/v1/keys/{id}': {
      get: { summary: 'one key (keys:read)', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'Key' }, ...errors(401, 403, 404) } },
    },
    '/v1/keys/{id}/sign': {
      post: {
        summary: 'sign (sign)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, idempotency, timeout],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['message'],
                additionalProperties: false,
                properties: { message: { ...hex, description: 'ECDSA: 32-byte digest; BIP340: 32 bytes; Ed25519: raw message up to 64 KiB' }, derivationPath: { type: 'string', example: 'm/0/1' } },
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'signature',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { signature: hex, publicKey: hex, signers: { type: 'array', items: { type: 'integer' } }, recoveryId: { enum: [0, 1] } } },
              },
            },
          },
          ...errors(400, 401, 403, 404, 409, 413, 415, 429, 503, 504),
        },
      },
    },
    '/v1/events': { get: { summary: 'WebSocket stream of session events (keys:read); ?requestId= filters; ?token= or Authorization header', responses: { '101': { description: 'upgraded' } } } },
  },
} as const;
