// The download benchmark: Keyship's keyed downloads against Debian's nginx on 127.0.0.1, side by
// side in one run. One 1 GiB file: nginx sendfile vs the api streaming it (DOWNLOAD_OFFLOAD=stream)
// vs the api deciding and nginx sending (x-accel); four such downloads at once; then requests per
// second and p99 latency for 1 KiB and 1 MiB files, every request's key checked against Postgres
// (and the download logged), against nginx's secure_link (a hash check, no database), with the
// charge committed durably (the default) and with DOWNLOAD_CHARGE_COMMIT=async; the CPU the api and
// Postgres spend per small request; and the api's resident memory while it streams. Postgres runs
// with fsync on, as in production.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { ensureDatabase, startCluster } from '../db/cluster';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { freePort } from '../test/harness/ports';
import { insertPurchase } from '../test/fixtures/downloads';
import { startNginx } from '../test/fixtures/nginx';
import { startApiProcess, type ApiProcess } from './api-process';
import { concurrentDownloads, curlDownload } from './curl';
import { largeBodies, measureLoad, wrkInstalled, type LoadResult } from './load';
import { cpuSeconds } from './proc-stats';
import type { Benchmark } from './types';

const GiB = 2 ** 30;
const secureLinkSecret = 'keyship-bench-secret';
const repetitions = 3;
/** Load runs of each kind, interleaved (nginx, then the apis), so that a noisy moment hits all alike. */
const loadRepetitions = 3;
const loadSeconds = 5;
const connections = 16;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (n: number, digits = 0) => Number(n.toFixed(digits));

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  // 64 MiB of random data written over and over: incompressible, and quick to make.
  const block = randomBytes(Math.min(bytes, 64 * 2 ** 20));
  const out = createWriteStream(file);
  for (let written = 0; written < bytes; written += block.length) {
    if (!out.write(block.subarray(0, Math.min(block.length, bytes - written)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function secureLink(uri: string): string {
  const expires = Math.floor(Date.now() / 1000) + 3600;
  const md5 = createHash('md5').update(`${expires}${uri} ${secureLinkSecret}`).digest('base64url');
  return `${uri}?md5=${md5}&expires=${expires}`;
}

const load = (url: string, paths?: string[]) => measureLoad(url, connections, loadSeconds, paths);

/** Samples an api's RSS while `work` runs; the peak, in MiB. */
async function peakRss(api: ApiProcess, work: () => Promise<unknown>): Promise<number> {
  let peak = api.rssBytes();
  const timer = setInterval(() => (peak = Math.max(peak, api.rssBytes())), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return peak / 2 ** 20;
}

export const downloadBenchmark: Benchmark = {
  name: 'downloads',
  description: '1 GiB keyed downloads and small-file requests/s, api vs Debian nginx on 127.0.0.1',
  async run(log) {
    if (!largeBodies.measurable) log(`*** the 1 MiB request rows are skipped: autocannon, the fallback client, would report its own limit, not Keyship's. ${largeBodies.why}`);
    const work = await mkdtemp(path.join(os.tmpdir(), 'keyship-bench-'));
    await chmod(work, 0o755); // the postgres user (when run as root) must reach its data folder
    const filesDir = path.join(work, 'files');
    await mkdir(path.join(filesDir, 'bench'), { recursive: true });
    const stops: (() => Promise<void>)[] = [];
    try {
      log('writing a 1 GiB file of random bytes');
      await writeRandomFile(path.join(filesDir, 'bench', 'big.bin'), GiB);
      const small = randomBytes(1024);
      const mid = randomBytes(2 ** 20);
      await writeFile(path.join(filesDir, 'bench', 'small.bin'), small);
      await writeFile(path.join(filesDir, 'bench', 'mid.bin'), mid);

      log('starting Postgres (fsync on), two api processes and nginx');
      const cluster = await startCluster({ dataDir: path.join(work, 'pg'), port: await freePort() });
      stops.push(() => cluster.stop());
      await ensureDatabase(cluster.adminUrl, 'keyship_bench');
      const databaseUrl = cluster.urlFor('keyship_bench');
      await migrate(databaseUrl);
      const pool = createPool(databaseUrl);
      stops.push(() => pool.end());
      const purchase = await insertPurchase(pool, filesDir, {
        files: [
          { name: 'big.bin', storagePath: 'bench/big.bin', write: false, content: Buffer.alloc(0) },
          { name: 'small.bin', storagePath: 'bench/small.bin', write: false, content: small },
          { name: 'mid.bin', storagePath: 'bench/mid.bin', write: false, content: mid },
        ],
      });
      await pool.query("UPDATE package_files SET size_bytes = $1 WHERE storage_path = 'bench/big.bin'", [GiB]);
      const [big, smallKey, midKey] = purchase.files.map((f) => f.url) as [string, string, string];
      // Many buyers: every request from one key would queue on that key's row lock (the charge).
      const buyers: string[] = [];
      for (let i = 0; i < 256; i++) {
        const p = await insertPurchase(pool, filesDir, { files: [{ name: 'small.bin', storagePath: 'bench/small.bin', write: false, content: small }] });
        buyers.push(p.files[0]!.url);
      }

      const env = {
        DATABASE_URL: databaseUrl,
        ADMIN_TOKEN: 'bench-admin-token-0123456789',
        FILES_DIR: filesDir,
        TEMPORAL_ADDRESS: '127.0.0.1:1', // never used by downloads (the connection is lazy)
        // The limiter stays in the path, with room for a load test from one address.
        DOWNLOAD_RATE_LIMIT: String(1e9),
      };
      const streamApi = await startApiProcess({ ...env, DOWNLOAD_OFFLOAD: 'stream' }, await freePort());
      stops.push(() => streamApi.stop());
      const accelApi = await startApiProcess({ ...env, DOWNLOAD_OFFLOAD: 'x-accel', TRUSTED_PROXIES: '127.0.0.1' }, await freePort());
      stops.push(() => accelApi.stop());
      const asyncApi = await startApiProcess({ ...env, DOWNLOAD_OFFLOAD: 'stream', DOWNLOAD_CHARGE_COMMIT: 'async' }, await freePort());
      stops.push(() => asyncApi.stop());
      const nginx = await startNginx({
        apiPort: new URL(accelApi.url).port ? Number(new URL(accelApi.url).port) : 80,
        filesDir,
        accessLog: false,
        extraHttp: ({ extraPort }) => `
  server {
    listen 127.0.0.1:${extraPort};
    location /plain/ { alias ${filesDir}/; }
    location /s/ {
      secure_link $arg_md5,$arg_expires;
      secure_link_md5 "$secure_link_expires$uri ${secureLinkSecret}";
      if ($secure_link = "") { return 403; }
      if ($secure_link = "0") { return 410; }
      alias ${filesDir}/;
    }
  }`,
      });
      stops.push(() => nginx.stop());
      const plain = `http://127.0.0.1:${nginx.extraPort}`;

      const targets = {
        nginx: `${plain}/plain/bench/big.bin`,
        api: streamApi.url + big,
        xaccel: nginx.url + big,
      };
      const check = (what: string, t: { status: number; bytes: number }) => {
        if (t.status !== 200 || t.bytes !== GiB) throw new Error(`${what}: HTTP ${t.status}, ${t.bytes} bytes instead of 200 and ${GiB}`);
      };

      log('1 GiB, one at a time');
      const single: Record<keyof typeof targets, number[]> = { nginx: [], api: [], xaccel: [] };
      const idleRss = streamApi.rssBytes() / 2 ** 20;
      let streamRss = 0;
      for (let rep = 0; rep < repetitions; rep++) {
        for (const name of Object.keys(targets) as (keyof typeof targets)[]) {
          let transfer = { status: 0, bytes: 0, seconds: 1 };
          const rss = await peakRss(streamApi, async () => (transfer = await curlDownload(targets[name])));
          check(name, transfer);
          if (name === 'api') streamRss = Math.max(streamRss, rss);
          single[name].push(transfer.bytes / 1e6 / transfer.seconds);
        }
      }
      log(`  MB/s (median of ${repetitions}): nginx ${round(median(single.nginx))}, api ${round(median(single.api))}, x-accel ${round(median(single.xaccel))}`);

      log('4 × 1 GiB at once');
      const four: Record<keyof typeof targets, number> = { nginx: 0, api: 0, xaccel: 0 };
      let fourRss = 0;
      for (const name of Object.keys(targets) as (keyof typeof targets)[]) {
        let result = { mbPerSecond: 0, transfers: [] as { status: number; bytes: number }[] };
        const rss = await peakRss(streamApi, async () => (result = await concurrentDownloads(targets[name], 4)));
        result.transfers.forEach((t) => check(`${name} ×4`, t));
        if (name === 'api') fourRss = rss;
        four[name] = result.mbPerSecond;
      }
      log(`  MB/s total: nginx ${round(four.nginx)}, api ${round(four.api)}, x-accel ${round(four.xaccel)}`);

      log(`requests per second, ${connections} connections, ${loadSeconds} s each (after 1 s warm-up), ${loadRepetitions} rounds`);
      /** CPU µs per request of the api process and of Postgres (postmaster and backends), warm-up included. */
      const withCpu = async (apiPid: number, run: () => Promise<LoadResult>) => {
        const before = { api: cpuSeconds(apiPid), pg: cpuSeconds(cluster.process.pid!, true) };
        const result = await run();
        const requests = result.rps * (loadSeconds + 1);
        return { ...result, apiCpuUs: ((cpuSeconds(apiPid) - before.api) * 1e6) / requests, pgCpuUs: ((cpuSeconds(cluster.process.pid!, true) - before.pg) * 1e6) / requests };
      };
      type Measured = LoadResult & { apiCpuUs?: number; pgCpuUs?: number };
      const kinds = {
        small: { nginx: () => load(plain + secureLink('/s/bench/small.bin')), api: (url: string) => load(url + smallKey) },
        smallMany: { nginx: () => load(plain + secureLink('/s/bench/small.bin')), api: (url: string) => load(url, buyers) },
        mid: { nginx: () => load(plain + secureLink('/s/bench/mid.bin')), api: (url: string) => load(url + midKey) },
      };
      const apis = { durable: streamApi, async: asyncApi };
      const rounds: Record<keyof typeof kinds, { nginx: Measured; durable: Measured; async: Measured }[]> = { small: [], smallMany: [], mid: [] };
      const measured = (Object.keys(kinds) as (keyof typeof kinds)[]).filter((kind) => kind !== 'mid' || largeBodies.measurable);
      for (let rep = 0; rep < loadRepetitions; rep++) {
        for (const kind of measured) {
          const nginxRun: Measured = await kinds[kind].nginx();
          const apiRuns: Record<string, Measured> = {};
          for (const [mode, api] of Object.entries(apis)) apiRuns[mode] = await withCpu(api.pid, () => kinds[kind].api(api.url));
          for (const [name, l] of Object.entries({ nginx: nginxRun, ...apiRuns })) {
            if (l.failures > 0) throw new Error(`${kind} ${name}: ${l.failures} failed requests under load`);
            const cpu = l.apiCpuUs === undefined ? '' : `, CPU per request: api ${round(l.apiCpuUs)} µs, Postgres ${round(l.pgCpuUs!)} µs`;
            log(`  ${kind} ${name}: ${round(l.rps)} req/s, p50 ${l.p50} ms, p99 ${l.p99} ms${cpu}`);
          }
          rounds[kind].push({ nginx: nginxRun, durable: apiRuns.durable!, async: apiRuns.async! });
        }
      }
      // Medians over the rounds; a ratio is the median of each round's own ratio.
      const summary = (kind: keyof typeof kinds, mode: 'durable' | 'async') => {
        const r = rounds[kind];
        return {
          nginxRps: median(r.map((x) => x.nginx.rps)),
          nginxP99: median(r.map((x) => x.nginx.p99)),
          rps: median(r.map((x) => x[mode].rps)),
          p99: median(r.map((x) => x[mode].p99)),
          ratio: median(r.map((x) => x[mode].rps / x.nginx.rps)),
          apiCpuUs: median(r.map((x) => x[mode].apiCpuUs!)),
          pgCpuUs: median(r.map((x) => x[mode].pgCpuUs!)),
        };
      };
      const loads = {
        small: summary('small', 'durable'),
        smallMany: summary('smallMany', 'durable'),
        mid: largeBodies.measurable ? summary('mid', 'durable') : undefined,
        smallAsync: summary('small', 'async'),
        smallManyAsync: summary('smallMany', 'async'),
        midAsync: largeBodies.measurable ? summary('mid', 'async') : undefined,
      };
      const events = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM download_events WHERE completed')).rows[0]!.n;

      const ratio = (api: number, ref: number) => round(api / ref, 2);
      const mark = (value: number, goal: number) => `${value >= goal ? 'met' : 'missed'} (≥ ${goal}×)`;
      const rows: (string | number)[][] = [
        ['1 GiB download, MB/s', round(median(single.nginx)), round(median(single.api)), ratio(median(single.api), median(single.nginx)), mark(ratio(median(single.api), median(single.nginx)), 0.95)],
        ['1 GiB download, X-Accel (api checks, nginx sends), MB/s', round(median(single.nginx)), round(median(single.xaccel)), ratio(median(single.xaccel), median(single.nginx)), mark(ratio(median(single.xaccel), median(single.nginx)), 0.95)],
        ['4 × 1 GiB at once, MB/s in total', round(four.nginx), round(four.api), ratio(four.api, four.nginx), mark(ratio(four.api, four.nginx), 0.9)],
        ['4 × 1 GiB at once, X-Accel, MB/s in total', round(four.nginx), round(four.xaccel), ratio(four.xaccel, four.nginx), '–'],
        ...(
          [
            ['', loads.small, loads.smallMany, loads.mid],
            [', DOWNLOAD_CHARGE_COMMIT=async', loads.smallAsync, loads.smallManyAsync, loads.midAsync],
          ] as const
        ).flatMap(([mode, one, many, mid]) => [
          [`1 KiB requests/s, one key (checked in Postgres, charged, logged) vs secure_link${mode}`, round(one.nginxRps), round(one.rps), round(one.ratio, 2), mark(round(one.ratio, 2), 0.15)],
          [`1 KiB p99 latency, one key, ms${mode}`, one.nginxP99, one.p99, '–', one.p99 <= 10 ? 'met (≤ 10 ms)' : 'missed (≤ 10 ms)'],
          [`1 KiB requests/s, 256 buyers’ keys in turn${mode}`, round(many.nginxRps), round(many.rps), round(many.ratio, 2), mark(round(many.ratio, 2), 0.15)],
          [`1 KiB p99 latency, 256 buyers’ keys, ms${mode}`, many.nginxP99, many.p99, '–', many.p99 <= 10 ? 'met (≤ 10 ms)' : 'missed (≤ 10 ms)'],
          ...(mid
            ? [
                [`1 MiB keyed requests/s vs secure_link${mode}`, round(mid.nginxRps), round(mid.rps), round(mid.ratio, 2), mark(round(mid.ratio, 2), 0.4)],
                [`1 MiB p99 latency, ms${mode}`, mid.nginxP99, mid.p99, '–', '–'],
              ]
            : []),
          [`CPU per 1 KiB request (256 buyers), api + Postgres, µs${mode}`, '–', `${round(many.apiCpuUs)} + ${round(many.pgCpuUs)}`, '–', '–'],
        ]),
        ['api RSS idle → peak streaming 1 GiB / 4 × 1 GiB, MiB', '–', `${round(idleRss)} → ${round(streamRss)} / ${round(fourRss)}`, '–', '–'],
      ];
      return {
        columns: ['measurement', 'nginx', 'Keyship api', 'api ÷ nginx', 'goal'],
        rows,
        notes: [
          `All on 127.0.0.1; clients curl (downloads, median of ${repetitions}) and ${wrkInstalled ? 'wrk' : 'autocannon (wrk is not installed, so the 1 MiB rows, which would measure autocannon itself, are left out)'} (1 thread, ${connections} connections, ${loadSeconds} s after a 1 s warm-up; medians of ${loadRepetitions} interleaved rounds, a ratio the median of each round's ratio); MB = 10^6 bytes.`,
          'nginx: Debian nginx-light, 1 worker, sendfile on; secure_link checks an MD5 of expiry, URI and secret, no database.',
          `api: api/main.ts in its own process, DOWNLOAD_OFFLOAD=stream with 1 MiB reads; each request's key is checked and charged and the download logged in Postgres (fsync on), concurrent requests sharing batched statements (${events} completed downloads logged). DOWNLOAD_CHARGE_COMMIT=durable (the default) waits for each charge's disk flush before sending; async does not (only a Postgres or machine crash can lose the last 0.6 s of charges and log entries).`,
          'CPU per request: /proc times of the api process and of all Postgres processes over each load run (warm-up included), divided by its requests.',
          'The 2 cores are shared by the api, Postgres, nginx, the load generator (and, here, other test runs): repeated runs differ by up to a third.',
        ],
        raw: { single, four, rounds, loads, idleRss, streamRss, fourRss, events },
      };
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    }
  },
};
