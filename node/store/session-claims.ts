/**
 * The durable record of every session id a node accepted: a claim is written, synced, before
 * its session starts, and never evicted. Claims go through the ledger's group commit
 * (group-commit.ts), so a burst of sessions pays for one fsync, not one each.
 */
import type { KeyValueBackend } from './backend.ts';
import type { GroupCommit } from './group-commit.ts';

const EMPTY = new Uint8Array(0);

export class SessionClaims {
  private readonly db: KeyValueBackend;
  private readonly synced: GroupCommit;
  /** Claims being written: a second claim of the same id while the first is in flight is refused. */
  private readonly claiming = new Set<string>();

  constructor(db: KeyValueBackend, synced: GroupCommit) {
    this.db = db;
    this.synced = synced;
  }

  /** True when `record` was new and is now on disk; false when it was claimed before (ever). */
  async claim(record: string): Promise<boolean> {
    if (this.claiming.has(record)) return false;
    // Read in this turn (a claim record is tiny; LevelDB's asynchronous read costs ~15 times the
    // CPU of the read itself in its thread-pool round trip), and marked in flight in the same
    // turn: two claims of one id never both see it new.
    if (this.db.getSync(record) !== undefined) return false;
    this.claiming.add(record);
    try {
      await this.synced.write([{ type: 'put', key: record, value: EMPTY }]);
      return true;
    } finally {
      this.claiming.delete(record);
    }
  }
}
