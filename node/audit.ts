/**
 * The node's audit log of share use: append-only JSON lines, each entry carrying the hash of
 * the previous one and the node identity's signature over its own canonical bytes. Truncating,
 * editing, reordering or dropping an entry breaks the chain at that entry, and `verifyAuditLog`
 * reports the first broken one. Every append is on disk (the file is opened O_SYNC) before the
 * share is used.
 *
 * Appends are group-committed (see `GroupCommitQueue`): a batch goes out as one synchronous
 * write, and each append resolves only once that write has returned. Under concurrent sessions
 * this turns one disk flush per entry into one per batch; the file is the same, line by line, as
 * if the entries had been appended one at a time in the order `append` was called.
 */
import { createHash } from 'node:crypto';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { GroupCommitQueue } from './group-commit-queue.ts';
import type { AuditEntry } from './runtime.ts';

interface ChainedEntry extends AuditEntry {
  readonly seq: number;
  readonly time: string;
  /** Hex SHA-256 of the previous line (without its newline); 64 zeros for the first. */
  readonly prev: string;
}

const GENESIS = '0'.repeat(64);
const DOMAIN = 'mpc-signer/audit-entry/v1\n';

const hashLine = (line: string) => createHash('sha256').update(line).digest('hex');
const signingInput = (entryJson: string) => Buffer.from(DOMAIN + entryJson);

export type AuditSigner = (input: Uint8Array) => Uint8Array | Promise<Uint8Array>;
export type AuditVerifier = (input: Uint8Array, signature: Uint8Array) => boolean;

export class AuditLog {
  private readonly fh: FileHandle;
  private readonly sign: AuditSigner;
  private seq: number;
  private prev: string;
  private readonly queue = new GroupCommitQueue<AuditEntry>((entries) => this.writeBatch(entries));

  private constructor(fh: FileHandle, sign: AuditSigner, seq: number, prev: string) {
    this.fh = fh;
    this.sign = sign;
    this.seq = seq;
    this.prev = prev;
  }

  /** Opens (or creates) the log and resumes its chain; refuses a log whose last line is torn. */
  static async open(file: string, sign: AuditSigner): Promise<AuditLog> {
    let seq = 0;
    let prev = GENESIS;
    try {
      const lines = (await readFile(file, 'utf8')).split('\n');
      const last = lines.pop();
      if (last !== '') throw new Error(`audit log ${file} ends with a partial line; run \`mpc audit verify\` and repair it`);
      if (lines.length > 0) {
        const tailLine = lines[lines.length - 1]!;
        seq = (JSON.parse(tailLine) as { entry: ChainedEntry }).entry.seq + 1;
        prev = hashLine(tailLine);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    // 'as' = O_APPEND | O_SYNC: each write returns once its bytes are on disk, so a batch costs one
    // trip to the thread pool instead of a write and then an fsync.
    return new AuditLog(await open(file, 'as', 0o600), sign, seq, prev);
  }

  /** Appends one entry; resolves once it is on disk. Entries keep the order of the calls. */
  append(entry: AuditEntry): Promise<void> {
    return this.queue.submit(entry);
  }

  /** Chains a batch and writes it (synchronously) as one. */
  private async writeBatch(entries: readonly AuditEntry[]): Promise<void> {
    let { seq, prev } = this;
    const lines: string[] = [];
    for (const entry of entries) {
      const chained: ChainedEntry = { ...entry, seq, time: new Date().toISOString(), prev };
      const entryJson = JSON.stringify(chained);
      const signature = Buffer.from(await this.sign(signingInput(entryJson))).toString('base64');
      const line = `{"entry":${entryJson},"signature":"${signature}"}`;
      lines.push(line);
      seq += 1;
      prev = hashLine(line);
    }
    await this.fh.write(lines.join('\n') + '\n');
    // The chain moves on only with a batch that reached the disk.
    this.seq = seq;
    this.prev = prev;
  }

  async close(): Promise<void> {
    await this.queue.drained();
    await this.fh.close();
  }
}

export type AuditVerdict = { readonly ok: true; readonly entries: number } | { readonly ok: false; readonly entries: number; readonly brokenAt: number; readonly reason: string };

/** The entries of a log as written, unchecked (`verifyAuditLog` checks them); none when there is no log. */
export async function readAuditEntries(file: string): Promise<AuditEntry[]> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { entry: AuditEntry }).entry);
}

/** Checks a whole log: chain links, sequence numbers and signatures. */
export async function verifyAuditLog(file: string, verify: AuditVerifier): Promise<AuditVerdict> {
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n');
  if (lines.pop() !== '') return { ok: false, entries: lines.length, brokenAt: lines.length, reason: 'the last line is incomplete' };
  let prev = GENESIS;
  for (const [i, line] of lines.entries()) {
    const broken = (reason: string): AuditVerdict => ({ ok: false, entries: lines.length, brokenAt: i, reason });
    let parsed: { entry: ChainedEntry; signature: string };
    try {
      parsed = JSON.parse(line) as { entry: ChainedEntry; signature: string };
    } catch {
      return broken('not valid JSON');
    }
    const entryJson = JSON.stringify(parsed.entry);
    if (line !== `{"entry":${entryJson},"signature":"${parsed.signature}"}`) return broken('not in canonical form');
    if (parsed.entry.seq !== i) return broken(`sequence number ${parsed.entry.seq}, expected ${i}`);
    if (parsed.entry.prev !== prev) return broken('does not chain to the previous entry');
    if (!verify(signingInput(entryJson), Buffer.from(parsed.signature, 'base64'))) return broken('bad signature');
    prev = hashLine(line);
  }
  return { ok: true, entries: lines.length };
}
