/**
 * The `pkcs11` provider: any PKCS#11 HSM (SoftHSM2 in tests). The key-encryption key is a
 * token AES-256 key found (or created) by label, sensitive and non-extractable, so it never
 * leaves the HSM; data keys are wrapped inside the HSM with CKM_AES_GCM, the share binding as
 * the GCM additional data.
 *
 * C_Initialize runs once per process; sessions come from a small pool (one per concurrent
 * operation); the key handle is looked up once and cached. pkcs11js calls are synchronous, so
 * an operation holds its session only for the duration of one call.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pkcs11js from 'pkcs11js';
import { z } from 'zod';
import { ProviderError, type ShareProtector, type WrappedKey } from './types.ts';

export const pkcs11ProviderConfigSchema = z.strictObject({
  type: z.literal('pkcs11'),
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: z.string().min(1),
  /** Token label to use (the slot is found by it). */
  tokenLabel: z.string().min(1),
  /** Label of the AES key-encryption key; created on first use when missing. */
  keyLabel: z.string().min(1).default('mpc-signer-kek'),
  /** Environment variable holding the user PIN (default MPC_PKCS11_PIN), or a file. */
  pinEnv: z.string().min(1).default('MPC_PKCS11_PIN'),
  pinFile: z.string().min(1).optional(),
  sessions: z.number().int().min(1).max(64).default(4),
});
export type Pkcs11ProviderConfig = z.infer<typeof pkcs11ProviderConfigSchema>;

const IV_BYTES = 12;
const TAG_BITS = 128;

/** One loaded module per path: C_Initialize may run only once per process. */
const modules = new Map<string, pkcs11js.PKCS11>();

function loadModule(path: string): pkcs11js.PKCS11 {
  let lib = modules.get(path);
  if (!lib) {
    lib = new pkcs11js.PKCS11();
    try {
      lib.load(path);
      lib.C_Initialize();
    } catch (e) {
      throw new ProviderError('pkcs11', 'misconfigured', `cannot load PKCS#11 module ${path}: ${(e as Error).message}`);
    }
    modules.set(path, lib);
  }
  return lib;
}

export interface Pkcs11Protector extends ShareProtector {
  /** The KEK's handle (tests read its attributes to prove it is not extractable). */
  readonly kekHandle: Buffer;
  /** Runs `f` with a logged-in session from the pool. */
  withSession<T>(f: (lib: pkcs11js.PKCS11, session: Buffer) => T): Promise<T>;
  close(): void;
}

export async function createPkcs11Protector(config: Pkcs11ProviderConfig, env: Record<string, string | undefined> = process.env): Promise<Pkcs11Protector> {
  const pin = config.pinFile ? (await readFile(config.pinFile, 'utf8')).trim() : env[config.pinEnv];
  if (!pin) throw new ProviderError('pkcs11', 'misconfigured', `no PIN: set ${config.pinEnv} or provider.pinFile`);
  const lib = loadModule(config.module);
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.replace(/[\s\0]+$/, '') === config.tokenLabel);
  if (!slot) throw new ProviderError('pkcs11', 'misconfigured', `no token labelled ${JSON.stringify(config.tokenLabel)} in ${config.module}`);

  const idle: Buffer[] = [];
  let open = 0;
  const waiters: ((s: Buffer) => void)[] = [];
  const openSession = (): Buffer => {
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
    try {
      lib.C_Login(session, pkcs11js.CKU_USER, pin);
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
        lib.C_CloseSession(session);
        if (code === pkcs11js.CKR_PIN_INCORRECT || code === pkcs11js.CKR_PIN_LEN_RANGE) throw new ProviderError('pkcs11', 'auth_failed', `the PIN for token ${config.tokenLabel} is wrong`);
        if (code === pkcs11js.CKR_PIN_LOCKED) throw new ProviderError('pkcs11', 'auth_failed', `the PIN of token ${config.tokenLabel} is locked`);
        throw new ProviderError('pkcs11', 'unavailable', `login to token ${config.tokenLabel} failed: ${(e as Error).message}`);
      }
    }
    open++;
    return session;
  };
  const acquire = async (): Promise<Buffer> => {
    const s = idle.pop();
    if (s) return s;
    if (open < config.sessions) return openSession();
    return new Promise((resolve) => waiters.push(resolve));
  };
  const release = (s: Buffer) => {
    const w = waiters.shift();
    if (w) w(s);
    else idle.push(s);
  };
  const withSession = async <T>(f: (l: pkcs11js.PKCS11, s: Buffer) => T): Promise<T> => {
    const s = await acquire();
    try {
      return f(lib, s);
    } finally {
      release(s);
    }
  };

  const kekHandle = await withSession((l, s) => findOrCreateKek(l, s, config.keyLabel));
  const kekRef = `pkcs11:${config.tokenLabel}/${config.keyLabel}`;

  const gcm = (iv: Buffer, aad: Uint8Array): pkcs11js.Mechanism => ({
    mechanism: pkcs11js.CKM_AES_GCM,
    parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, ivBits: IV_BYTES * 8, aad: Buffer.from(aad), tagBits: TAG_BITS } as pkcs11js.GcmParams,
  });

  return {
    name: 'pkcs11',
    kekHandle,
    withSession,
    currentKekRef: () => kekRef,
    async wrapKey(dataKey, aad): Promise<WrappedKey> {
      const iv = randomBytes(IV_BYTES);
      const out = await withSession((l, s) => {
        l.C_EncryptInit(s, gcm(iv, aad), kekHandle);
        return l.C_Encrypt(s, Buffer.from(dataKey), Buffer.alloc(dataKey.length + 16));
      });
      return { provider: 'pkcs11', kekRef, wrapped: Buffer.concat([iv, out]) };
    },
    async unwrapKey(w, aad): Promise<Uint8Array> {
      if (w.provider !== 'pkcs11' || w.kekRef !== kekRef) throw new ProviderError('pkcs11', 'key_not_found', `data key wrapped under ${w.provider}/${w.kekRef}, this provider holds ${kekRef}`);
      const wrapped = Buffer.from(w.wrapped);
      try {
        const plain = await withSession((l, s) => {
          l.C_DecryptInit(s, gcm(wrapped.subarray(0, IV_BYTES), aad), kekHandle);
          return l.C_Decrypt(s, wrapped.subarray(IV_BYTES), Buffer.alloc(wrapped.length));
        });
        return new Uint8Array(plain);
      } catch (e) {
        if (e instanceof ProviderError) throw e;
        throw new ProviderError('pkcs11', 'unwrap_failed', 'the wrapped data key does not open under this binding');
      }
    },
    close() {
      for (const s of idle.splice(0)) lib.C_CloseSession(s);
    },
  };
}

function findOrCreateKek(lib: pkcs11js.PKCS11, session: Buffer, label: string): Buffer {
  lib.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  const found = lib.C_FindObjects(session, 2);
  lib.C_FindObjectsFinal(session);
  if (found.length > 1) throw new ProviderError('pkcs11', 'misconfigured', `more than one key labelled ${JSON.stringify(label)}`);
  if (found[0]) return found[0];
  return lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  ]);
}
