// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the CPU went during the load: the top
// functions by self time, and the shares of Keyship's own code, its libraries and V8/Node itself.
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled milliseconds in the window that were not idle. */
  busyMs: number;
  top: { fn: string; where: string; selfMs: number; percent: number }[];
  /** Share of busy time per origin: keyship, a package name, node, (gc), (program). */
  byOrigin: { origin: string; percent: number }[];
}

const root = path.resolve(__dirname, '..');

function originOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (file.startsWith('node:')) return 'node';
  if (file.startsWith(root)) return 'keyship';
  return 'other';
}

function shortPlace(url: string, line: number): string {
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  const shown = nm >= 0 ? file.slice(nm + 'node_modules/'.length) : file.startsWith(root) ? path.relative(root, file) : file;
  return shown ? `${shown}:${line + 1}` : '';
}

/** Now on the clock V8 stamps profiles with (CLOCK_MONOTONIC, microseconds), in any process. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Only the samples taken between `fromUs` and `toUs` (monotonicMicros() of the load's start and
 * end, so start-up bundling and shutdown are left out); the whole profile without them.
 */
export function summariseProfile(file: string, options: { fromUs?: number; toUs?: number; top?: number } = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const start = options.fromUs ?? profile.startTime;
  const end = options.toUs ?? profile.endTime;
  const self = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < start || t > end) continue;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + delta);
  }
  const byFunction = new Map<string, { fn: string; where: string; us: number }>();
  const byOrigin = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const fn = functionName || '(anonymous)';
    const key = `${fn}@${url}:${lineNumber}`;
    const entry = byFunction.get(key) ?? { fn, where: shortPlace(url, lineNumber), us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const origin = originOf(url, fn);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
  }
  const pct = (us: number) => Math.round((us / Math.max(busy, 1)) * 1000) / 10;
  return {
    busyMs: Math.round(busy / 1000),
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, options.top ?? 12)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.us / 1000), percent: pct(e.us) })),
    byOrigin: [...byOrigin.entries()].sort((a, b) => b[1] - a[1]).map(([origin, us]) => ({ origin, percent: pct(us) })),
  };
}

if (require.main === module) {
  // npx tsx bench/cpu-profile.ts <file.cpuprofile> [top]
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('Usage: npx tsx bench/cpu-profile.ts <file.cpuprofile> [how many functions]');
    process.exit(2);
  }
  const summary = summariseProfile(file, { top: Number(top ?? 25) });
  console.log(`busy ${summary.busyMs} ms`);
  for (const o of summary.byOrigin.slice(0, 12)) console.log(`  ${o.percent}%\t${o.origin}`);
  for (const e of summary.top) console.log(`${e.percent}%\t${e.selfMs} ms\t${e.fn}\t${e.where}`);
}
