/**
 * Raw 32-byte Ed25519 keys as node:crypto KeyObjects, for OpenSSL's Ed25519 (RFC 8032).
 * OpenSSL only takes DER, and for this curve the DER is a fixed prefix followed by the raw
 * bytes (RFC 8410).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { BoundedMap } from '../core/bounded-map.ts';

const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');

const publicKey = (prefix: Buffer, raw: Uint8Array): KeyObject => createPublicKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'spki' });
const privateKey = (prefix: Buffer, raw: Uint8Array): KeyObject => createPrivateKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'pkcs8' });
/** The raw public key of a key object (a private key's is derived). */
const rawPublicKey = (key: KeyObject): Uint8Array => new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI.length));

/**
 * Public key objects by raw key: verifiers see the same few keys (group keys, peers' identity
 * keys) over and over, and building the object costs more than an Ed25519 verification.
 */
const MAX_PUBLIC_KEYS = 1024;
const ed25519PublicKeys = new BoundedMap<string, KeyObject>(MAX_PUBLIC_KEYS);
export const ed25519PublicKey = (raw: Uint8Array): KeyObject => {
  const hex = Buffer.from(raw).toString('hex');
  const hit = ed25519PublicKeys.get(hex);
  if (hit) return hit;
  const key = publicKey(ED25519_SPKI, raw);
  ed25519PublicKeys.set(hex, key);
  return key;
};
export const ed25519PrivateKey = (seed: Uint8Array): KeyObject => privateKey(ED25519_PKCS8, seed);
export const rawEd25519PublicKey = rawPublicKey;

/** A fresh 32-byte secret seed from OpenSSL's generator. */
export const newEd25519Seed = (): Uint8Array => new Uint8Array(generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(ED25519_PKCS8.length));
