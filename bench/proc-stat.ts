/**
 * Linux /proc readers for the bench: a process's CPU time, and how busy one
 * core was. Both in clock ticks (USER_HZ, 100 on every Linux we run on).
 */

/**
 * utime + stime from /proc/<pid>/stat (fields 14 and 15), which cover all
 * threads of the process. The command name (field 2) is in parentheses and
 * may itself hold spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseProcessCpuTicks(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ')': field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
  const fields = stat.slice(close + 1).trim().split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isInteger(utime) && Number.isInteger(stime) && fields.length > 12 ? utime + stime : undefined;
}

export interface CoreTicks {
  /** Every tick counted for the core. */
  total: number;
  /** Ticks neither idle nor waiting for I/O. */
  busy: number;
}

/** The `cpuN` line of /proc/stat: user nice system idle iowait irq softirq steal (guest time is already in user). */
export function parseCoreTicks(procStat: string, core: number): CoreTicks | undefined {
  const line = procStat.split('\n').find((candidate) => candidate.startsWith(`cpu${core} `));
  if (line === undefined) return undefined;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (values.length < 4 || values.some((value) => !Number.isInteger(value))) return undefined;
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = values[3]! + (values[4] ?? 0);
  return { total, busy: total - idle };
}

/** The share of `after - before` the core was busy, 0..1. */
export function busyFraction(before: CoreTicks, after: CoreTicks): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}
