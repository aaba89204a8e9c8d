/**
 * Synced writes to the ledger, group-committed: writes made in one event-loop turn go out
 * together, and writes that arrive while a batch is on its way to disk go out together as the
 * next batch, one fsync for all of them; each resolves only once its batch is on disk. Under concurrent sessions a signing node's session claims and
 * presignature deletions so share their fsyncs and their trips to LevelDB's thread pool.
 */
import type { BatchOp, KeyValueBackend } from './backend.ts';

interface PendingWrite {
  readonly ops: readonly BatchOp[];
  readonly done: (e?: unknown) => void;
}

export class GroupCommit {
  private readonly db: KeyValueBackend;
  private pending: PendingWrite[] = [];
  private committing = false;

  constructor(db: KeyValueBackend) {
    this.db = db;
  }

  /**
   * Writes `ops` atomically with whatever else is in the same batch; resolves once they are on
   * disk, rejects (with every write of its batch) when the batch fails. Writes take effect in
   * the order of the calls.
   */
  write(ops: readonly BatchOp[]): Promise<void> {
    const written = new Promise<void>((resolve, reject) => this.pending.push({ ops, done: (e) => (e === undefined ? resolve() : reject(e)) }));
    if (!this.committing) {
      this.committing = true;
      // The first batch waits for the end of this event-loop turn, so writes made in the same
      // turn (a signing session's claim and its presignature's deletion, the requests one socket
      // read delivered) share its fsync.
      setImmediate(() => void this.commit());
    }
    return written;
  }

  private async commit(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.db.batch(batch.flatMap((w) => w.ops), { sync: true });
          for (const w of batch) w.done();
        } catch (e) {
          for (const w of batch) w.done(e ?? new Error('batch write failed'));
        }
      }
    } finally {
      // In the same turn as the loop's last look at `pending`: no write can fall in between.
      this.committing = false;
    }
  }
}
