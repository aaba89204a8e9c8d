/**
 * The durable record of every session id a node accepted: a claim is written, synced, before
 * its session starts, and never evicted. Claims that arrive together are written in one synced
 * batch (group commit), so a burst of sessions pays for one fsync, not one each.
 */
import type { BatchOp, KeyValueBackend } from './backend.ts';

const EMPTY = new Uint8Array(0);

export class SessionClaims {
  private readonly db: KeyValueBackend;
  /** Claims being written: a second claim of the same id while the first is in flight is refused. */
  private readonly claiming = new Set<string>();
  /** Claims waiting for the next group commit, and whether one is running. */
  private pending: { op: BatchOp; done: (e?: unknown) => void }[] = [];
  private committing = false;

  constructor(db: KeyValueBackend) {
    this.db = db;
  }

  /** True when `record` was new and is now on disk; false when it was claimed before (ever). */
  async claim(record: string): Promise<boolean> {
    if (this.claiming.has(record)) return false;
    this.claiming.add(record);
    try {
      if ((await this.db.get(record)) !== undefined) return false;
      await new Promise<void>((resolve, reject) => {
        this.pending.push({ op: { type: 'put', key: record, value: EMPTY }, done: (e) => (e ? reject(e) : resolve()) });
        if (!this.committing) void this.commit();
      });
      return true;
    } finally {
      this.claiming.delete(record);
    }
  }

  private async commit(): Promise<void> {
    this.committing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.db.batch(batch.map((c) => c.op), { sync: true });
          for (const c of batch) c.done();
        } catch (e) {
          for (const c of batch) c.done(e);
        }
      }
    } finally {
      this.committing = false;
    }
  }
}
