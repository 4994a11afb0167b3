// The download benchmark: Keyship's keyed downloads against Debian's nginx on 127.0.0.1, side by
// side in one run. One 1 GiB file: nginx sendfile vs each of four api processes streaming it
// (DOWNLOAD_OFFLOAD=stream, logging at info), fresh and warmed up, with the CPU each spends per GiB
// and the worst process reported, vs the api deciding and nginx sending (x-accel); four such
// downloads at once; then requests per
// second and p99 latency for 1 KiB and 1 MiB files, every request's key checked against Postgres
// (and the download logged), against nginx's secure_link (a hash check, no database), with the
// charge committed durably (the default) and with DOWNLOAD_CHARGE_COMMIT=async; the CPU the api and
// Postgres spend per small request; and the api's resident memory while it streams. Postgres runs
// with fsync on, as in production.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
const rounds1GiB = 5;
const apiProcesses = 4;
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

      log(`starting Postgres (fsync on), ${apiProcesses} streaming api processes, an x-accel and an async one, and nginx`);
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
      // Several streaming api processes, logging at info as production does: a figure that holds
      // only in a lucky process is no figure, so each is measured and the worst one reported.
      const streamApis: ApiProcess[] = [];
      for (let i = 0; i < apiProcesses; i++) {
        const api = await startApiProcess({ ...env, DOWNLOAD_OFFLOAD: 'stream', LOG_LEVEL: 'info' }, await freePort());
        stops.push(() => api.stop());
        streamApis.push(api);
      }
      const streamApi = streamApis[0]!;
      const accelApi = await startApiProcess({ ...env, DOWNLOAD_OFFLOAD: 'x-accel', TRUSTED_PROXIES: '127.0.0.1', LOG_LEVEL: 'info' }, await freePort());
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

      const nginxPid = Number((await readFile(path.join(nginx.dir, 'nginx.pid'), 'utf8')).trim());
      const nginxCpu = () => cpuSeconds(nginxPid, true);
      const nginxUrl = `${plain}/plain/bench/big.bin`;
      const check = (what: string, t: { status: number; bytes: number }) => {
        if (t.status !== 200 || t.bytes !== GiB) throw new Error(`${what}: HTTP ${t.status}, ${t.bytes} bytes instead of 200 and ${GiB}`);
      };
      /** One timed transfer and the CPU seconds the serving processes spent on it. */
      const timed = async (what: string, url: string, cpu: () => number) => {
        const before = cpu();
        const t = await curlDownload(url);
        check(what, t);
        return { mbps: t.bytes / 1e6 / t.seconds, cpuPerGiB: cpu() - before };
      };
      type Sample = { mbps: number; cpuPerGiB: number };
      /**
       * Interleaved rounds of one 1 GiB download each from nginx, every streaming api process and
       * X-Accel; per process the median of each round's ratio to nginx's transfer of that round.
       */
      const singleRounds = async (label: string) => {
        log(`1 GiB, one at a time, ${label}: ${rounds1GiB} interleaved rounds of nginx, ${streamApis.length} api processes, x-accel`);
        const samples = { nginx: [] as Sample[], apis: streamApis.map(() => [] as Sample[]), xaccel: [] as Sample[] };
        for (let r = 0; r < rounds1GiB; r++) {
          samples.nginx.push(await timed('nginx', nginxUrl, nginxCpu));
          for (const [i, api] of streamApis.entries()) samples.apis[i]!.push(await timed(`api ${i + 1}`, api.url + big, () => cpuSeconds(api.pid)));
          samples.xaccel.push(await timed('x-accel', nginx.url + big, () => nginxCpu() + cpuSeconds(accelApi.pid)));
        }
        const perApi = samples.apis.map((list, i) => ({
          process: i + 1,
          mbps: median(list.map((x) => x.mbps)),
          ratio: median(list.map((x, r) => x.mbps / samples.nginx[r]!.mbps)),
          cpuPerGiB: median(list.map((x) => x.cpuPerGiB)),
        }));
        const worst = perApi.reduce((a, b) => (b.ratio < a.ratio ? b : a));
        const result = {
          nginx: { mbps: median(samples.nginx.map((x) => x.mbps)), cpuPerGiB: median(samples.nginx.map((x) => x.cpuPerGiB)) },
          perApi,
          worst,
          xaccel: { mbps: median(samples.xaccel.map((x) => x.mbps)), ratio: median(samples.xaccel.map((x, r) => x.mbps / samples.nginx[r]!.mbps)), cpuPerGiB: median(samples.xaccel.map((x) => x.cpuPerGiB)) },
        };
        log(`  nginx ${round(result.nginx.mbps)} MB/s, ${round(result.nginx.cpuPerGiB, 2)} CPU s/GiB`);
        for (const a of perApi) log(`  api ${a.process}: ${round(a.mbps)} MB/s (${round(a.ratio, 2)}× nginx), ${round(a.cpuPerGiB, 2)} CPU s/GiB`);
        log(`  x-accel ${round(result.xaccel.mbps)} MB/s (${round(result.xaccel.ratio, 2)}×), nginx + api ${round(result.xaccel.cpuPerGiB, 2)} CPU s/GiB`);
        return result;
      };

      const idleRss = streamApi.rssBytes() / 2 ** 20;
      const fresh = await singleRounds('fresh processes');
      // Warmed up as a running api is: many small requests, then a few large downloads, in each.
      log('warming every api process up: 500 small requests and 3 × 1 GiB each');
      for (const api of streamApis) {
        for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: 10 }, () => fetch(api.url + smallKey).then((r) => r.arrayBuffer())));
        for (let i = 0; i < 3; i++) check('warm-up', await curlDownload(api.url + big));
      }
      let warm: Awaited<ReturnType<typeof singleRounds>> | undefined;
      const streamRss = await peakRss(streamApi, async () => (warm = await singleRounds('warmed up')));
      if (!warm) throw new Error('the warmed-up rounds gave no result');

      log(`4 × 1 GiB at once, ${rounds1GiB} interleaved rounds of nginx and each api process`);
      const fourSamples = { nginx: [] as number[], apis: streamApis.map(() => [] as number[]), xaccel: [] as number[] };
      let fourRss = 0;
      for (let r = 0; r < rounds1GiB; r++) {
        const n = await concurrentDownloads(nginxUrl, 4);
        n.transfers.forEach((t) => check('nginx ×4', t));
        fourSamples.nginx.push(n.mbPerSecond);
        for (const [i, api] of streamApis.entries()) {
          let result = { mbPerSecond: 0, transfers: [] as { status: number; bytes: number }[] };
          const rss = await peakRss(api, async () => (result = await concurrentDownloads(api.url + big, 4)));
          result.transfers.forEach((t) => check(`api ${i + 1} ×4`, t));
          if (i === 0) fourRss = Math.max(fourRss, rss);
          fourSamples.apis[i]!.push(result.mbPerSecond / n.mbPerSecond);
        }
        const x = await concurrentDownloads(nginx.url + big, 4);
        x.transfers.forEach((t) => check('x-accel ×4', t));
        fourSamples.xaccel.push(x.mbPerSecond / n.mbPerSecond);
      }
      const four = {
        nginx: median(fourSamples.nginx),
        perApi: fourSamples.apis.map((ratios, i) => ({ process: i + 1, ratio: median(ratios) })),
        xaccelRatio: median(fourSamples.xaccel),
      };
      const fourWorst = four.perApi.reduce((a, b) => (b.ratio < a.ratio ? b : a));
      log(`  nginx ${round(four.nginx)} MB/s in total; api ${four.perApi.map((a) => `${a.process}: ${round(a.ratio, 2)}×`).join(', ')}; x-accel ${round(four.xaccelRatio, 2)}×`);

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
        ...([['fresh', fresh], ['warmed up', warm]] as const).flatMap(([when, r]) => {
          const worstCpu = Math.max(...r.perApi.map((a) => a.cpuPerGiB));
          return [
          [`1 GiB download, worst of ${streamApis.length} api processes (${when}), MB/s`, round(r.nginx.mbps), `${round(r.worst.mbps)} (process ${r.worst.process})`, round(r.worst.ratio, 2), mark(round(r.worst.ratio, 2), 0.95)],
          [`1 GiB download, every api process (${when}), × nginx`, '–', r.perApi.map((a) => round(a.ratio, 2)).join(' / '), '–', '–'],
          [`CPU per GiB, nginx vs the worst api process (${when}), s`, round(r.nginx.cpuPerGiB, 2), round(worstCpu, 2), ratio(worstCpu, r.nginx.cpuPerGiB), r.nginx.cpuPerGiB > 0 && worstCpu <= 1.5 * r.nginx.cpuPerGiB ? 'met (≤ 1.5×)' : 'missed (≤ 1.5×)'],
          [`1 GiB download, X-Accel (api checks, nginx sends; ${when}), MB/s`, round(r.nginx.mbps), round(r.xaccel.mbps), round(r.xaccel.ratio, 2), mark(round(r.xaccel.ratio, 2), 0.95)],
          ];
        }),
        [`4 × 1 GiB at once, worst of ${streamApis.length} api processes (warmed up), × nginx`, round(four.nginx), `process ${fourWorst.process}`, round(fourWorst.ratio, 2), mark(round(fourWorst.ratio, 2), 0.9)],
        ['4 × 1 GiB at once, X-Accel, × nginx', round(four.nginx), '–', round(four.xaccelRatio, 2), '–'],
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
          `All on 127.0.0.1; clients curl (1 GiB downloads: ${rounds1GiB} interleaved rounds, per api process the median of each round's ratio to nginx, the worst process reported; fresh, then after 500 small requests and 3 large downloads in each) and ${wrkInstalled ? 'wrk' : 'autocannon (wrk is not installed, so the 1 MiB rows, which would measure autocannon itself, are left out)'} (1 thread, ${connections} connections, ${loadSeconds} s after a 1 s warm-up; medians of ${loadRepetitions} interleaved rounds, a ratio the median of each round's ratio); MB = 10^6 bytes.`,
          'nginx: Debian nginx-light, 1 worker, sendfile on; secure_link checks an MD5 of expiry, URI and secret, no database.',
          `api: api/main.ts in its own process, DOWNLOAD_OFFLOAD=stream with 1 MiB reads; each request's key is checked and charged and the download logged in Postgres (fsync on), concurrent requests sharing batched statements (${events} completed downloads logged). DOWNLOAD_CHARGE_COMMIT=durable (the default) waits for each charge's disk flush before sending; async does not (only a Postgres or machine crash can lose the last 0.6 s of charges and log entries).`,
          'CPU per request: /proc times of the api process and of all Postgres processes over each load run (warm-up included), divided by its requests.',
          'The 2 cores are shared by the api, Postgres, nginx, the load generator (and, here, other test runs): repeated runs differ by up to a third.',
        ],
        raw: { fresh, warm, four, rounds, loads, idleRss, streamRss, fourRss, events },
      };
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    }
  },
};
