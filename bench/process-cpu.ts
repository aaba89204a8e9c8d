/**
 * CPU time spent by a benchmark cluster's processes, read from Linux's /proc: what signatures
 * cost the machine per role (coordinator, nodes, this client). On a shared host this is steadier
 * than sig/s, which also moves with the time processes wait for a core. Undefined without /proc.
 */
import { readdir, readFile } from 'node:fs/promises';

/** CPU milliseconds, user plus system. */
export interface CpuByRole {
  readonly coordinator: number;
  readonly nodes: number;
  readonly client: number;
}

/** Linux reports utime and stime in USER_HZ ticks, which is 100 on every supported platform. */
const MS_PER_TICK = 10;

async function procStat(pid: number): Promise<{ ppid: number; cpuMs: number } | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // "pid (comm) state ppid … utime stime …": comm may hold spaces, so fields count from its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK };
}

/** The CPU used so far by the coordinator and node processes under `launcherPid`, and by this process. */
export async function cpuSnapshot(launcherPid: number): Promise<CpuByRole | undefined> {
  const pids = await readdir('/proc').then((names) => names.filter((n) => /^\d+$/.test(n)).map(Number), () => undefined);
  if (!pids) return undefined;
  const stats = new Map<number, { ppid: number; cpuMs: number }>();
  for (const pid of pids) {
    const s = await procStat(pid);
    if (s) stats.set(pid, s);
  }
  const under = (pid: number): boolean => {
    for (let p = stats.get(pid)?.ppid; p !== undefined && p > 1; p = stats.get(p)?.ppid) if (p === launcherPid) return true;
    return false;
  };
  let coordinator = 0;
  let nodes = 0;
  for (const [pid, s] of stats) {
    if (!under(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('start-coordinator')) coordinator += s.cpuMs;
    else if (cmdline.includes('start-node')) nodes += s.cpuMs;
  }
  const own = process.cpuUsage();
  return { coordinator, nodes, client: (own.user + own.system) / 1000 };
}

/** CPU ms per signature between two snapshots, per role and in total. */
export function cpuPerSignature(before: CpuByRole | undefined, after: CpuByRole | undefined, signatures: number): (CpuByRole & { readonly total: number }) | undefined {
  if (!before || !after || signatures === 0) return undefined;
  const per = (k: keyof CpuByRole) => (after[k] - before[k]) / signatures;
  const coordinator = per('coordinator');
  const nodes = per('nodes');
  const client = per('client');
  return { coordinator, nodes, client, total: coordinator + nodes + client };
}
