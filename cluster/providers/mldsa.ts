/**
 * The `mldsa` identity signer: ML-DSA-65 (FIPS 204) through Node 24's OpenSSL 3.5, for
 * post-quantum deployments. Its secret key is sealed by the node's share protector (bound to
 * the member id), like the Ed25519 identity. Envelopes may carry this signature beside the
 * Ed25519 one, so a verifier that trusts either scheme can check them.
 */
import { AEAD_NONCE_BYTES, aeadOpen, aeadSeal } from '../aead.ts';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createAtomically } from '../atomic-file.ts';
import type { IdentitySigner, ShareProtector } from './types.ts';

const aadFor = (member: string) => new TextEncoder().encode(`mpc-signer/mldsa-identity/v1\0${member}`);

interface SealedMlDsa {
  version: 1;
  member: string;
  publicKey: string;
  provider: string;
  kekRef: string;
  /** The PKCS#8 DER of the secret key, sealed: AES-256-GCM under a data key the provider wraps. */
  wrappedKey: string;
  sealed: string;
}

export class MlDsaSigner implements IdentitySigner {
  readonly algorithm = 'ml-dsa-65' as const;
  private readonly secret: KeyObject;
  private readonly pub: KeyObject;

  private constructor(secret: KeyObject) {
    this.secret = secret;
    this.pub = createPublicKey(secret);
  }

  /** Generates a new ML-DSA-65 identity and seals it in `file` (which must not exist). */
  static async create(file: string, member: string, protector: ShareProtector): Promise<MlDsaSigner> {
    const { privateKey } = generateKeyPairSync('ml-dsa-65');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const dataKey = randomBytes(32);
    const iv = randomBytes(AEAD_NONCE_BYTES);
    const sealed = Buffer.concat([iv, aeadSeal(dataKey, iv, der, aadFor(member))]);
    der.fill(0);
    const wrapped = await protector.wrapKey(dataKey, aadFor(member));
    dataKey.fill(0);
    const signer = new MlDsaSigner(privateKey);
    const body: SealedMlDsa = {
      version: 1,
      member,
      publicKey: Buffer.from(await signer.publicKey()).toString('base64'),
      provider: wrapped.provider,
      kekRef: wrapped.kekRef,
      wrappedKey: Buffer.from(wrapped.wrapped).toString('base64'),
      sealed: sealed.toString('base64'),
    };
    await createAtomically(file, JSON.stringify(body, null, 2) + '\n');
    return signer;
  }

  static async load(file: string, member: string, protector: ShareProtector): Promise<MlDsaSigner> {
    const body = JSON.parse(await readFile(file, 'utf8')) as SealedMlDsa;
    if (body.version !== 1 || body.member !== member) throw new Error(`${file} is not the ML-DSA identity of ${member}`);
    const dataKey = await protector.unwrapKey({ provider: body.provider as ShareProtector['name'], kekRef: body.kekRef, wrapped: Buffer.from(body.wrappedKey, 'base64') }, aadFor(member));
    const sealed = Buffer.from(body.sealed, 'base64');
    const opened = aeadOpen(dataKey, sealed.subarray(0, AEAD_NONCE_BYTES), sealed.subarray(AEAD_NONCE_BYTES), aadFor(member));
    const der = Buffer.from(opened.buffer, opened.byteOffset, opened.length); // the same bytes, wiped below
    dataKey.fill(0);
    const signer = new MlDsaSigner(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    der.fill(0);
    if (Buffer.from(await signer.publicKey()).toString('base64') !== body.publicKey) throw new Error(`${file}: sealed key does not match its public key`);
    return signer;
  }

  /** The raw 1952-byte ML-DSA-65 public key. */
  async publicKey(): Promise<Uint8Array> {
    return mldsaRawPublicKey(this.pub);
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return this.signSync(message);
  }

  /** OpenSSL signs ML-DSA synchronously; envelopes are sealed on the send path with this. */
  signSync(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.secret));
  }

  async verify(message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return verifyMlDsa(await this.publicKey(), message, signature);
  }
}

const SPKI_PREFIX_LENGTH = 22; // SEQUENCE { AlgorithmIdentifier(id-ml-dsa-65), BIT STRING header }

function mldsaRawPublicKey(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX_LENGTH));
}

/** Verifies an ML-DSA-65 signature under a raw public key (manifest entries carry raw keys). */
export function verifyMlDsa(rawPublicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const prefix = Buffer.from('308207b2300b0609608648016503040312038207a100', 'hex');
    const key = createPublicKey({ key: Buffer.concat([prefix, rawPublicKey]), format: 'der', type: 'spki' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
