// Requests per second and latency percentiles of one URL under load. wrk (C, one thread) when
// installed, since it costs the shared CPU little and reads large bodies at GB/s; otherwise
// autocannon, whose own ceiling on body bytes is below the servers', so large-body runs are left
// to wrk (`largeBodies` says whether this machine can measure them).
import autocannon from 'autocannon';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LoadResult {
  tool: 'wrk' | 'autocannon';
  rps: number;
  p50: number;
  p99: number;
  /** Answers other than 2xx/3xx, and socket errors. */
  failures: number;
}

import { findWrk, missingSentence } from '../test/harness/programs';

const wrkProgram = findWrk();
export const wrkInstalled = wrkProgram.path !== undefined;
/** Whether bodies of a MiB or more can be measured here, and if not, what to install. */
export const largeBodies = wrkInstalled ? { measurable: true as const } : { measurable: false as const, why: missingSentence(wrkProgram) };

const toMs = (value: string, unit: string) => Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);

/** `paths`: requests cycle through them (many buyers' keys rather than one). */
function wrk(url: string, connections: number, seconds: number, paths?: string[]): Promise<LoadResult> {
  const script = path.join(os.tmpdir(), `keyship-wrk-${process.pid}.lua`);
  if (paths) {
    writeFileSync(script, `local paths = {${paths.map((p) => JSON.stringify(p)).join(',')}}\nlocal i = 0\nrequest = function() i = i + 1; return wrk.format("GET", paths[(i % #paths) + 1]) end\n`);
  }
  return new Promise((resolve, reject) => {
    execFile(wrkProgram.path!, ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(paths ? ['-s', script] : []), url], { timeout: (seconds + 30) * 1000 }, (error, stdout) => {
      if (error) return reject(new Error(`wrk ${url} failed: ${error.message}`));
      const percentile = (p: string) => {
        const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(stdout);
        return m ? toMs(m[1]!, m[2]!) : NaN;
      };
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      const socketErrors = socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0;
      resolve({ tool: 'wrk', rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN), p50: percentile('50'), p99: percentile('99'), failures: non2xx + socketErrors });
    });
  });
}

async function cannon(url: string, connections: number, seconds: number, paths?: string[]): Promise<LoadResult> {
  const r = await autocannon({ url, connections, duration: seconds, requests: paths?.map((p) => ({ method: 'GET' as const, path: p })) });
  return { tool: 'autocannon', rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failures: r.non2xx + r.errors };
}

/** A 1 s warm-up (connections, JIT, caches), then the measured run. */
export async function measureLoad(url: string, connections: number, seconds: number, paths?: string[]): Promise<LoadResult> {
  const run = wrkInstalled ? wrk : cannon;
  await run(url, connections, 1, paths);
  return run(url, connections, seconds, paths);
}
