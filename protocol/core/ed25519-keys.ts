/**
 * Raw 32-byte Ed25519 keys as node:crypto KeyObjects, for OpenSSL's Ed25519 (RFC 8032) sign and
 * verify. OpenSSL only takes DER, and for Ed25519 the DER is a fixed prefix followed by the raw
 * bytes (RFC 8410).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export const ed25519PublicKey = (raw: Uint8Array): KeyObject => createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });

export const ed25519PrivateKey = (seed: Uint8Array): KeyObject => createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });

export const rawEd25519PublicKey = (key: KeyObject): Uint8Array => new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));

/** A fresh 32-byte secret seed from OpenSSL's generator. */
export const newEd25519Seed = (): Uint8Array => new Uint8Array(generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length));
