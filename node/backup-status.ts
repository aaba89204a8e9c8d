/**
 * When this node was last backed up and how long it took: `mpc backup create` runs on a stopped
 * node, so it leaves its result in the data directory (`backup-status.json`, written atomically)
 * and the running node exports it (`mpc_node_last_backup_timestamp_seconds`,
 * `mpc_node_last_backup_duration_seconds`), which the backup-age alert watches.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../cluster/atomic-file.ts';

export interface BackupStatus {
  /** Unix time, seconds, when the backup file was durably written. */
  readonly completedAt: number;
  readonly durationSeconds: number;
}

const fileOf = (dataDir: string) => join(dataDir, 'backup-status.json');

export function recordBackup(dataDir: string, status: BackupStatus): Promise<void> {
  return writeAtomically(fileOf(dataDir), JSON.stringify(status));
}

/** The last backup's status, or undefined when this node was never backed up (or the record is unreadable). */
export async function readBackupStatus(dataDir: string): Promise<BackupStatus | undefined> {
  try {
    const v = JSON.parse(await readFile(fileOf(dataDir), 'utf8')) as Partial<BackupStatus>;
    return typeof v.completedAt === 'number' && typeof v.durationSeconds === 'number' ? { completedAt: v.completedAt, durationSeconds: v.durationSeconds } : undefined;
  } catch {
    return undefined;
  }
}
