/**
 * Synced writes to the ledger, group-committed (see `GroupCommitQueue`): the writes of one batch
 * go to LevelDB as one synced batch, one fsync for all of them. Under concurrent sessions a
 * signing node's session claims and presignature deletions so share their fsyncs and their trips
 * to LevelDB's thread pool.
 */
import { GroupCommitQueue } from '../group-commit-queue.ts';
import type { BatchOp, KeyValueBackend } from './backend.ts';

export class GroupCommit {
  private readonly queue: GroupCommitQueue<readonly BatchOp[]>;

  constructor(db: KeyValueBackend) {
    this.queue = new GroupCommitQueue((writes) => db.batch(writes.flat(), { sync: true }));
  }

  /**
   * Writes `ops` atomically with whatever else is in the same batch; resolves once they are on
   * disk, rejects (with every write of its batch) when the batch fails. Writes take effect in
   * the order of the calls.
   */
  write(ops: readonly BatchOp[]): Promise<void> {
    return this.queue.submit(ops);
  }
}
