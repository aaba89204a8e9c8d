/**
 * Node backup and restore. A backup holds the node's identity seed and every key's current
 * share, encrypted with AES-256-GCM under a fresh 32-byte backup key; the backup key itself is
 * never written anywhere, only split M-of-N (Shamir over the secp256k1 scalar field) into
 * custodian shares, default 3-of-5. Restoring on a fresh machine needs the file and M custodian
 * shares, and re-seals everything under the new machine's provider.
 */
import { randomBytes } from 'node:crypto';
import { aeadOpen, aeadSeal } from '../cluster/aead.ts';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { array, bytes, decodeCbor, encodeCbor, struct, text, uint, type Bytes } from '../protocol/core/codec.ts';
import { zeroize } from '../protocol/core/transcript.ts';
import type { ShareStore } from './store/share-store.ts';
import type { StoredKey } from './runtime.ts';
import type { PartyId } from '../protocol/core/ids.ts';
import type { Scheme } from '../protocol/schemes/index.ts';
import { custodyCodec, type Custody } from '../cluster/control.ts';

/** v2 adds each key's label and custody; v1 backups still open (their keys get neither back). */
const MAGIC = 'mpc-signer-backup/v2';
const MAGIC_V1 = 'mpc-signer-backup/v1';
const Fn = secp256k1.Point.Fn;

interface BackupEntry {
  keyId: string;
  scheme: string;
  threshold: number;
  parties: number[];
  groupKey: Bytes;
  chainCode: Bytes;
  epoch: number;
  share: Bytes;
}
/** v2: the label policy rules select by ('' none) and the custody ([] for keys without one). */
interface BackupEntryV2 extends BackupEntry {
  label: string;
  custody: Custody[];
}
interface BackupBody<E = BackupEntryV2> {
  member: string;
  identitySeed: Bytes;
  keys: E[];
}
interface BackupFile {
  magic: string;
  member: string;
  custodianThreshold: number;
  nonce: Bytes;
  ciphertext: Bytes;
}

const entryFields = {
  keyId: text(128),
  scheme: text(32),
  threshold: uint(0xffff),
  parties: array(uint(0xffff), { min: 1, max: 0xffff }),
  groupKey: bytes({ min: 32, max: 33 }),
  chainCode: bytes(32),
  epoch: uint(2 ** 32),
  share: bytes({ min: 1, max: 1 << 20 }),
};
const entryCodecV1 = struct<BackupEntry>(entryFields);
const entryCodec = struct<BackupEntryV2>({ ...entryFields, label: text(64), custody: array(custodyCodec, { min: 0, max: 1 }) });
const bodyCodecV1 = struct<BackupBody<BackupEntry>>({ member: text(64), identitySeed: bytes(32), keys: array(entryCodecV1, { min: 0, max: 1 << 20 }) });
const bodyCodec = struct<BackupBody>({ member: text(64), identitySeed: bytes(32), keys: array(entryCodec, { min: 0, max: 1 << 20 }) });
const fileCodec = struct<BackupFile>({ magic: text(64), member: text(64), custodianThreshold: uint(255), nonce: bytes(12), ciphertext: bytes({ min: 16, max: 1 << 30 }) });

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/** Splits a 32-byte secret into `n` custodian shares, any `m` of which rebuild it. */
export function splitSecret(secret: Uint8Array, m: number, n: number): string[] {
  if (!(Number.isInteger(m) && Number.isInteger(n) && m >= 2 && m <= n && n <= 255)) throw new BackupError('custodian threshold must satisfy 2 <= M <= N <= 255');
  // createBackup draws the backup key as a field element, so it is a valid scalar.
  const s = Fn.fromBytes(secret);
  const coefficients = [s, ...Array.from({ length: m - 1 }, () => Fn.create(BigInt('0x' + randomBytes(48).toString('hex'))))];
  return Array.from({ length: n }, (_, i) => {
    const x = BigInt(i + 1);
    let y = 0n;
    for (let k = coefficients.length - 1; k >= 0; k--) y = Fn.add(Fn.mul(y, x), coefficients[k]!);
    return `mpcb1-${m}-${i + 1}-${Buffer.from(Fn.toBytes(y)).toString('hex')}`;
  });
}

export function combineSecret(shares: readonly string[]): Uint8Array {
  const parsed = shares.map((s) => {
    const m = /^mpcb1-(\d+)-(\d+)-([0-9a-f]{64})$/.exec(s.trim());
    if (!m) throw new BackupError('not a custodian share (expected mpcb1-M-i-<64 hex>)');
    return { m: Number(m[1]), x: BigInt(m[2]!), y: Fn.fromBytes(Buffer.from(m[3]!, 'hex')) };
  });
  const m = parsed[0]?.m ?? 0;
  const unique = [...new Map(parsed.map((p) => [p.x, p])).values()];
  if (unique.length < m) throw new BackupError(`need ${m} distinct custodian shares, got ${unique.length}`);
  const use = unique.slice(0, m);
  let secret = 0n;
  for (const { x, y } of use) {
    let num = 1n;
    let den = 1n;
    for (const o of use) if (o.x !== x) {
      num = Fn.mul(num, o.x);
      den = Fn.mul(den, Fn.sub(o.x, x));
    }
    secret = Fn.add(secret, Fn.mul(y, Fn.div(num, den)));
  }
  return Fn.toBytes(secret);
}

/** Builds an encrypted backup of `store` (and the identity seed) and the custodian shares. */
export async function createBackup(store: ShareStore, member: string, identitySeed: Uint8Array, m = 3, n = 5): Promise<{ file: Uint8Array; custodianShares: string[] }> {
  const keys: BackupEntryV2[] = [];
  try {
    for (const k of await store.listKeys()) {
      const loaded = (await store.loadShare(k.keyId))!;
      keys.push({
        keyId: k.keyId,
        scheme: k.scheme,
        threshold: k.threshold,
        parties: [...k.parties],
        groupKey: k.groupKey as Bytes,
        chainCode: k.chainCode as Bytes,
        epoch: loaded.epoch,
        share: loaded.share as Bytes,
        label: k.label ?? '',
        custody: k.custody ? [k.custody] : [],
      });
    }
    const plaintext = encodeCbor(bodyCodec, { member, identitySeed: identitySeed as Bytes, keys });
    const backupKey = Fn.toBytes(Fn.create(BigInt('0x' + randomBytes(48).toString('hex'))));
    try {
      const nonce = randomBytes(12);
      const ciphertext = aeadSeal(backupKey, nonce, plaintext, Buffer.from(`${MAGIC}\0${member}`));
      zeroize(plaintext);
      const file = encodeCbor(fileCodec, { magic: MAGIC, member, custodianThreshold: m, nonce: nonce as Bytes, ciphertext: ciphertext as Bytes });
      return { file, custodianShares: splitSecret(backupKey, m, n) };
    } finally {
      zeroize(backupKey);
    }
  } finally {
    for (const k of keys) zeroize(k.share);
  }
}

const upgrade = (body: BackupBody<BackupEntry>): BackupBody => ({ ...body, keys: body.keys.map((k) => ({ ...k, label: '', custody: [] })) });

/** Opens a backup with M custodian shares: the member, its identity seed and its keys. */
export function openBackup(file: Uint8Array, custodianShares: readonly string[]): { member: string; identitySeed: Uint8Array; keys: (StoredKey & { epoch: number; share: Uint8Array })[] } {
  const f = decodeCbor(fileCodec, file, 1 << 30);
  if (f.magic !== MAGIC && f.magic !== MAGIC_V1) throw new BackupError('not an mpc-signer backup');
  const key = combineSecret(custodianShares);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.from(aeadOpen(key, f.nonce, f.ciphertext, Buffer.from(`${f.magic}\0${f.member}`)));
  } catch {
    throw new BackupError('the custodian shares do not open this backup');
  } finally {
    zeroize(key);
  }
  const body: BackupBody = f.magic === MAGIC ? decodeCbor(bodyCodec, plaintext, 1 << 30) : upgrade(decodeCbor(bodyCodecV1, plaintext, 1 << 30));
  zeroize(plaintext);
  return {
    member: body.member,
    identitySeed: body.identitySeed,
    keys: body.keys.map((k) => ({
      keyId: k.keyId,
      scheme: k.scheme as Scheme,
      threshold: k.threshold,
      parties: k.parties as PartyId[],
      groupKey: k.groupKey,
      chainCode: k.chainCode,
      epoch: k.epoch,
      share: k.share,
      ...(k.label ? { label: k.label } : {}),
      ...(k.custody[0] ? { custody: k.custody[0] } : {}),
    })),
  };
}
