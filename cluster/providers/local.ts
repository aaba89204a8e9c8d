/**
 * The `local` provider, for development only: the key-encryption key comes from a key file
 * (32 random bytes, created on first use with mode 0600) or from a passphrase stretched with
 * scrypt, and wraps data keys with AES-256-GCM. Anyone who can read the key file can open
 * every share, which is why it refuses to run under NODE_ENV=production unless
 * MPC_ALLOW_LOCAL_PROVIDER=1 says the operator knows.
 */
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { AEAD_NONCE_BYTES, aeadOpen, aeadSeal } from '../aead.ts';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ProviderError, type ShareProtector, type WrappedKey } from './types.ts';

export const localProviderConfigSchema = z.strictObject({
  type: z.literal('local'),
  /** File holding the 32-byte key-encryption key (hex); created when missing. */
  keyFile: z.string().min(1).optional(),
  /** Environment variable holding a passphrase (used instead of keyFile). */
  passphraseEnv: z.string().min(1).optional(),
  /** Salt file for the passphrase KDF; created when missing. */
  saltFile: z.string().min(1).optional(),
});
export type LocalProviderConfig = z.infer<typeof localProviderConfigSchema>;

const NONCE = AEAD_NONCE_BYTES;

export async function createLocalProtector(config: LocalProviderConfig, env: Record<string, string | undefined> = process.env): Promise<ShareProtector> {
  if (env.NODE_ENV === 'production' && env.MPC_ALLOW_LOCAL_PROVIDER !== '1') {
    throw new ProviderError(
      'local',
      'refused',
      'the local provider keeps its key-encryption key on the same disk as the shares, so it is for development only; ' +
        'configure pkcs11/aws/gcp/azure, or set MPC_ALLOW_LOCAL_PROVIDER=1 to override',
    );
  }
  let kek: Buffer;
  let kekRef: string;
  if (config.passphraseEnv) {
    const passphrase = env[config.passphraseEnv];
    if (!passphrase) throw new ProviderError('local', 'misconfigured', `environment variable ${config.passphraseEnv} (provider.passphraseEnv) is empty`);
    if (!config.saltFile) throw new ProviderError('local', 'misconfigured', 'provider.saltFile is required with provider.passphraseEnv');
    const salt = await readOrCreate(config.saltFile, 16);
    kek = scryptSync(passphrase, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    kekRef = `scrypt:${fingerprint(kek)}`;
  } else if (config.keyFile) {
    kek = await readOrCreate(config.keyFile, 32);
    kekRef = `keyfile:${fingerprint(kek)}`;
  } else {
    throw new ProviderError('local', 'misconfigured', 'set provider.keyFile or provider.passphraseEnv');
  }
  return {
    name: 'local',
    currentKekRef: () => kekRef,
    async wrapKey(dataKey, aad): Promise<WrappedKey> {
      const nonce = randomBytes(NONCE);
      const wrapped = Buffer.concat([nonce, aeadSeal(kek, nonce, dataKey, aad)]);
      return { provider: 'local', kekRef, wrapped };
    },
    async unwrapKey(w, aad): Promise<Uint8Array> {
      if (w.provider !== 'local' || w.kekRef !== kekRef) throw new ProviderError('local', 'key_not_found', `data key wrapped under ${w.provider}/${w.kekRef}, this provider holds ${kekRef}`);
      try {
        return aeadOpen(kek, w.wrapped.subarray(0, NONCE), w.wrapped.subarray(NONCE), aad);
      } catch {
        throw new ProviderError('local', 'unwrap_failed', 'the wrapped data key does not open under this binding');
      }
    },
  };
}

const fingerprint = (k: Uint8Array) => createHash('sha256').update('mpc-signer/kek-ref').update(k).digest('hex').slice(0, 16);

async function readOrCreate(file: string, length: number): Promise<Buffer> {
  try {
    const raw = Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
    if (raw.length !== length) throw new ProviderError('local', 'misconfigured', `${file} must hold ${length} bytes of hex`);
    return raw;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dirname(file), { recursive: true });
  const fresh = randomBytes(length);
  const fh = await open(file, 'wx', 0o600);
  try {
    await fh.writeFile(fresh.toString('hex') + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  return fresh;
}
