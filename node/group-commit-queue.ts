/**
 * Group commit, the shape shared by the node's synced writers (the LevelDB ledger, the audit
 * log): items submitted in one event-loop turn go out together, and items that arrive while a
 * batch is on its way to disk go out together as the next batch, so concurrent sessions share
 * one disk flush instead of paying one each. Each submission settles with its batch: resolves
 * once the batch is written, rejects (with every item of the batch) when writing it fails.
 * Batches are written one at a time, in the order of the calls.
 */
export class GroupCommitQueue<T> {
  private readonly writeBatch: (items: readonly T[]) => Promise<void>;
  /** Items waiting for the next batch, in call order. */
  private pending: { readonly item: T; readonly done: (e?: unknown) => void }[] = [];
  /** Whether the batch loop runs: one batch is on its way to disk at a time. */
  private committing = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(writeBatch: (items: readonly T[]) => Promise<void>) {
    this.writeBatch = writeBatch;
  }

  submit(item: T): Promise<void> {
    const written = new Promise<void>((resolve, reject) => this.pending.push({ item, done: (e) => (e === undefined ? resolve() : reject(e)) }));
    if (!this.committing) {
      this.committing = true;
      // The first batch waits for the end of this event-loop turn, so items submitted in the same
      // turn (a signing session's claim and its presignature's deletion, the sessions one socket
      // read started) share its flush.
      this.idle = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.commit());
    }
    return written;
  }

  /** Settles once nothing submitted so far is still waiting or being written. */
  drained(): Promise<void> {
    return this.idle;
  }

  private async commit(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.writeBatch(batch.map((p) => p.item));
          for (const p of batch) p.done();
        } catch (e) {
          for (const p of batch) p.done(e ?? new Error('batch write failed'));
        }
      }
    } finally {
      // In the same turn as the loop's last look at `pending`: no submission can fall in between.
      this.committing = false;
    }
  }
}
