// CPU time and resident memory of the processes a benchmark runs, read from /proc, so every
// process (api, worker, Temporal server, Postgres, the load generator) is measured the same way.
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerSecond = 100; // USER_HZ on Linux

interface Stat {
  ppid: number;
  /** utime + stime of the process (all its threads), seconds. */
  own: number;
  /** cutime + cstime: children it has waited for (Postgres backends that exited), seconds. */
  reaped: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses; the fields after the last ')' do not.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(fields[i - 3]);
  return { ppid: n(4), own: (n(14) + n(15)) / ticksPerSecond, reaped: (n(16) + n(17)) / ticksPerSecond };
}

/**
 * CPU seconds used so far by a process; with `children`, also by its live children and those it
 * has reaped (Postgres: the postmaster and its backends). The load generator is counted without
 * children, since the servers it started are counted on their own.
 */
export function cpuSeconds(pid: number, children = false): number {
  const root = readStat(pid);
  if (!root) return 0;
  if (!children) return root.own;
  let total = root.own + root.reaped;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
    const child = readStat(Number(entry));
    if (child?.ppid === pid) total += child.own;
  }
  return total;
}

export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine (all cores) so far, from /proc/stat. */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / ticksPerSecond;
}

/** Processes whose CPU counts their children's (a Postgres postmaster). */
export const withChildren = new Set(['postgres']);

/**
 * CPU of named processes over a stretch of time: `stop()` gives each one's share of a core, and
 * `others`: everything else on the machine (other people's test runs share these cores).
 */
export function cpuMeter(pids: Record<string, number>): { stop(): Record<string, number> } {
  const started = performance.now();
  const read = () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid, withChildren.has(name))]));
  const before = read();
  const busyBefore = machineBusySeconds();
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      const after = read();
      const used = Object.fromEntries(Object.keys(pids).map((name) => [name, after[name]! - before[name]!]));
      const ours = Object.values(used).reduce((a, b) => a + b, 0);
      const others = Math.max(0, machineBusySeconds() - busyBefore - ours);
      return Object.fromEntries([...Object.entries(used), ['others', others]].map(([name, s]) => [name, Math.round(((s as number) / seconds) * 100)]));
    },
  };
}

/** "api 45%, worker 80%, ..." (percent of one core). */
export function cpuLine(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .map(([name, percent]) => `${name} ${percent}%`)
    .join(', ');
}
