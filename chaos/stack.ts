// A whole Keyship of its own for the chaos suite, every part of which can be hurt: a private
// Postgres cluster (restartable on its data folder), a Temporal dev server on a database file
// (restartable, keeping its workflows), an SMTP capture that can refuse mail, the PayPal simulator,
// and the real api and worker processes (api/main.ts, worker/main.ts) as children, so a SIGKILL
// is a real one. A child that dies unasked is started again (as a process manager would) and
// counted, since it is a finding.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, chmodSync, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startCluster, ensureDatabase, type Cluster } from '../db/cluster';
import { migrate } from '../db/migrate';
import { createPool, type Pool } from '../db/pool';
import { startDevServer, type DevServer } from '../temporal-server/dev-server';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { smtpCapture, type SmtpCapture } from '../test/harness/smtp';
import { freePort } from '../test/harness/ports';
import { receiverEmail, seedPackages } from '../test/invoice-fixtures';

const root = path.resolve(__dirname, '..');

export const chaosAdminToken = 'chaos-admin-token-0123456789abcdef';

export interface ChaosStack {
  /** The environment the api and worker run with (for an app in this process, loadConfig(env)). */
  env: Record<string, string>;
  databaseUrl: string;
  pool: Pool;
  temporal: Client;
  temporalAddress: string;
  smtp: SmtpCapture;
  sim: Simulator;
  apiUrl: string;
  taskQueue: string;
  /** Children that died without being asked to (worker or api), with their exit codes. */
  unexpectedExits: ChildExit[];
  /**
   * Children that stopped at start because Postgres or Temporal was down at that moment (they run
   * migrations first and fail fast; the process manager, here the stack, starts them again).
   */
  startRefusals: ChildExit[];
  /** SIGKILLs the worker and starts a new one; resolves once the new one runs. */
  killWorker(): Promise<void>;
  /** Stops the Temporal dev server (SIGTERM) and starts it again on the same file; ms without it. */
  restartTemporal(): Promise<number>;
  /** Stops Postgres (fast shutdown) and starts it again on the same data; ms without it. */
  restartPostgres(): Promise<number>;
  stop(): Promise<void>;
}

export interface ChaosStackOptions {
  /** Where the child processes' logs go. */
  logDir: string;
  /** Keep Temporal's state in a file, so a restart keeps the workflows (slower than in memory). */
  persistentTemporal?: boolean;
  /** The api's /d/ rate limit (0: off). */
  downloadRateLimit?: number;
  log?: (line: string) => void;
}

export interface ChildExit {
  which: string;
  code: number | null;
  signal: string | null;
  at: number;
  uptimeMs: number;
  lastOutput: string;
}

interface Supervised {
  child: ChildProcess;
  expectedExit: boolean;
}

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const log = options.log ?? (() => undefined);
  mkdirSync(options.logDir, { recursive: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyship-chaos-'));
  chmodSync(dir, 0o755); // the postgres user (as root) must reach its data folder
  const pgDir = path.join(dir, 'pg');
  // Temporal's SQLite file on tmpfs when there is one: a restart of the server process keeps it (what
  // is tested here), and no fsync waits on a shared disk (which made the dev server the bottleneck).
  const shm = existsSync('/dev/shm') ? mkdtempSync(path.join('/dev/shm', 'keyship-chaos-temporal-')) : undefined;
  const temporalDb = path.join(shm ?? dir, 'temporal.db');
  const [pgPort, temporalPort, apiPort] = [await freePort(), await freePort(), await freePort()];

  let cluster: Cluster = await startCluster({ dataDir: pgDir, port: pgPort, fast: true });
  await ensureDatabase(cluster.adminUrl, 'keyship');
  const databaseUrl = cluster.urlFor('keyship');
  await migrate(databaseUrl);
  const pool = createPool(databaseUrl, { max: 20 });
  await seedPackages(pool);

  const dbFile = options.persistentTemporal === false ? undefined : temporalDb;
  let temporalServer: DevServer = await startDevServer({ port: temporalPort, dbFile });
  const temporalAddress = temporalServer.address;
  const connection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({ connection });

  const smtp = await smtpCapture();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  // PayPal resends for days; the simulator's compressed schedule must outlast every outage here.
  const sim = await startSimulator({
    port: 0,
    ipnUrl: `${apiUrl}/paypal/ipn`,
    webhookUrl: `${apiUrl}/paypal/webhook`,
    business: receiverEmail,
    retry: { attempts: 40, firstDelayMs: 1_000, maxDelayMs: 8_000 },
  });
  const taskQueue = 'keyship-chaos';
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    SMTP_URL: smtp.url,
    PUBLIC_URL: apiUrl,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    PAYPAL_MODE: 'simulator',
    PAYPAL_SIMULATOR_URL: sim.url,
    PAYPAL_RECEIVER_EMAIL: receiverEmail,
    ADMIN_TOKEN: chaosAdminToken,
    FILES_DIR: path.join(dir, 'files'),
    DOWNLOAD_RATE_LIMIT: String(options.downloadRateLimit ?? 0),
    WORKER_METRICS_PORT: '0',
    SHUTDOWN_GRACE: '1s',
    LOG_LEVEL: 'warn',
  };

  const unexpectedExits: ChildExit[] = [];
  const startRefusals: ChildExit[] = [];
  const logs: WriteStream[] = [];
  let stopping = false;

  function run(which: 'api' | 'worker', script: string): Promise<Supervised> {
    const out = createWriteStream(path.join(options.logDir, `${which}.log`), { flags: 'a' });
    logs.push(out);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, script)], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const supervised: Supervised = { child, expectedExit: false };
    const spawnedAt = Date.now();
    let lastOutput = '';
    const keep = (chunk: Buffer) => void (lastOutput = (lastOutput + chunk.toString()).slice(-2000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    child.once('exit', (code, signal) => {
      if (supervised.expectedExit || stopping) return;
      const exit: ChildExit = { which, code, signal, at: Date.now(), uptimeMs: Date.now() - spawnedAt, lastOutput };
      const refusedAtStart = exit.uptimeMs < 60_000 && code === 1 && /ECONNREFUSED|could not connect|the database system is (starting|shutting) up/.test(lastOutput);
      (refusedAtStart ? startRefusals : unexpectedExits).push(exit);
      log(`${which} exited by itself (code ${code}, signal ${signal}); starting it again`);
      setTimeout(() => {
        if (stopping) return;
        void run(which, script).then((again) => {
          if (which === 'worker') worker = again;
          else api = again;
        });
      }, 1_000);
    });
    return Promise.resolve(supervised);
  }

  let api = await run('api', 'api/main.ts');
  let worker = await run('worker', 'worker/main.ts');
  await waitFor(async () => (await fetch(`${apiUrl}/healthz`).then((r) => r.ok, () => false)), 60_000, 'the api did not answer /healthz within 60 s');
  await waitForPoller(temporal, taskQueue, 90_000);

  return {
    env,
    databaseUrl,
    pool,
    temporal,
    temporalAddress,
    smtp,
    sim,
    apiUrl,
    taskQueue,
    unexpectedExits,
    startRefusals,
    async killWorker() {
      const old = worker;
      old.expectedExit = true;
      const gone = new Promise((resolve) => old.child.once('exit', resolve));
      old.child.kill('SIGKILL');
      await gone;
      worker = await run('worker', 'worker/main.ts');
    },
    async restartTemporal() {
      const started = Date.now();
      await temporalServer.stop();
      if (!dbFile) throw new Error('This stack keeps Temporal in memory; a restart would lose every workflow. Start it with persistentTemporal.');
      temporalServer = await startDevServer({ port: temporalPort, dbFile });
      return Date.now() - started;
    },
    async restartPostgres() {
      const started = Date.now();
      await cluster.stop();
      cluster = await startCluster({ dataDir: pgDir, port: pgPort, fast: true });
      return Date.now() - started;
    },
    async stop() {
      stopping = true;
      const children = [api, worker].filter((s) => s.child.exitCode === null && s.child.signalCode === null);
      await Promise.all(children.map((s) => new Promise((resolve) => s.child.once('exit', resolve).kill('SIGKILL'))));
      for (const out of logs) out.end();
      await sim.close();
      await smtp.close();
      await connection.close();
      await pool.end().catch(() => undefined);
      await temporalServer.stop();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
      if (shm) rmSync(shm, { recursive: true, force: true });
    },
  };
}

export async function waitFor(check: () => Promise<boolean>, ms: number, failure: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Resolves once a worker polls the task queue (it bundles the workflows first: seconds). */
export async function waitForPoller(client: Client, taskQueue: string, ms: number): Promise<void> {
  await waitFor(
    async () => {
      try {
        const described = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
        return (described.pollers?.length ?? 0) > 0;
      } catch {
        return false;
      }
    },
    ms,
    `no worker polled task queue ${taskQueue} within ${ms / 1000} s; see the worker log`,
  );
}
