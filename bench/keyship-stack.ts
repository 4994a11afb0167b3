// Everything a purchase touches, on 127.0.0.1, for the purchase, IPN and scale benchmarks:
// Postgres (its own cluster, fsync on as in production), an in-memory Temporal dev server, the
// SMTP capture the tests use (every e-mail parsed back; its own process, bench/mail-sink.ts), the
// PayPal simulator (in this process: it answers the api's postbacks), and the api and the worker
// each in its own process, exactly what production runs (api/main.ts, worker/main.ts).
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase, startCluster, type Cluster } from '../db/cluster';
import { migrate } from '../db/migrate';
import { createPool, type Pool } from '../db/pool';
import { demoPackage, seedDemoPackage } from '../catalog/demo-seed';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { startDevServer, type DevServer } from '../temporal-server/dev-server';
import { freePort } from '../test/harness/ports';
import { startMailSink, type MailArrivals } from './mail-arrivals';
import { startNodeProcess, type NodeProcess } from './node-process';
import { workerNodeOptions } from '../worker/memory';

export interface KeyshipStack {
  cluster: Cluster;
  pool: Pool;
  temporal: DevServer;
  /** When each e-mail reached the mailbox, by kind and recipient. */
  mail: MailArrivals;
  simulator: Simulator;
  api: NodeProcess;
  worker: NodeProcess;
  ipnUrl: string;
  item: { itemNumber: string; amount: string };
  /** The processes whose CPU the benchmarks report. */
  pids: Record<string, number>;
  databaseUrl: string;
  stop(): Promise<void>;
}

export interface KeyshipStackOptions {
  /** Folder for --cpu-prof profiles of the api and the worker (none when unset). */
  profileDir?: string;
  /** Where the api's and the worker's logs go (kept); a temporary folder, removed, without it. */
  logDir?: string;
  /** Extra environment for the worker process. */
  workerEnv?: Record<string, string>;
}

export async function startKeyshipStack(log: (line: string) => void, options: KeyshipStackOptions = {}): Promise<KeyshipStack> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'keyship-bench-'));
  await chmod(work, 0o755); // the postgres user (when run as root) must reach its data folder
  const stops: (() => Promise<unknown>)[] = [() => rm(work, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    log('starting Postgres, the Temporal dev server, the SMTP capture and the PayPal simulator');
    const [cluster, temporal, smtp] = await Promise.all([
      freePort().then((port) => startCluster({ dataDir: path.join(work, 'pg'), port })),
      freePort().then((port) => startDevServer({ port })),
      startMailSink(),
    ]);
    stops.push(() => cluster.stop(), () => temporal.stop(), () => smtp.process.stop());
    await ensureDatabase(cluster.adminUrl, 'keyship_bench');
    const databaseUrl = cluster.urlFor('keyship_bench');
    await migrate(databaseUrl);
    const pool = createPool(databaseUrl);
    stops.push(() => pool.end());
    const filesDir = path.join(work, 'files');
    await seedDemoPackage(pool, filesDir);

    const apiPort = await freePort();
    const publicUrl = `http://127.0.0.1:${apiPort}`;
    const ipnUrl = `${publicUrl}/paypal/ipn`;
    const simulator = await startSimulator({ port: await freePort(), host: '127.0.0.1', ipnUrl, business: 'seller@keyship.localhost' });
    stops.push(() => simulator.close());

    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      SMTP_URL: smtp.url,
      PUBLIC_URL: publicUrl,
      PAYPAL_MODE: 'simulator',
      PAYPAL_SIMULATOR_URL: simulator.url,
      PAYPAL_RECEIVER_EMAIL: 'seller@keyship.localhost',
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      FILES_DIR: filesDir,
      LOG_LEVEL: 'info', // the default: production logs every request and delivery
      SHUTDOWN_GRACE: '5s',
    };
    // One folder per process: Node names each thread's profile CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile.
    const profile = (name: string) => (options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(options.profileDir, name)}`] : []);
    log('starting the api and the worker');
    const [api, worker] = await Promise.all([
      startNodeProcess({
        script: 'api/main.ts',
        env: { ...env, API_HOST: '127.0.0.1', API_PORT: String(apiPort) },
        nodeArgs: profile('api'),
        ready: /Keyship api listening/,
        logFile: path.join(options.logDir ?? work, 'api.log'),
      }),
      freePort().then((metricsPort) =>
        startNodeProcess({
          script: 'worker/main.ts',
          // NODE_OPTIONS as production's (docker-compose.yml); BENCH_WORKER_ENV may override it.
          env: { ...env, NODE_OPTIONS: workerNodeOptions(env.NODE_OPTIONS), WORKER_METRICS_PORT: String(metricsPort), ...options.workerEnv },
          nodeArgs: profile('worker'),
          ready: /Keyship worker polling/,
          logFile: path.join(options.logDir ?? work, 'worker.log'),
        }),
      ),
    ]);
    stops.push(() => api.stop(), () => worker.stop());
    return {
      cluster,
      pool,
      temporal,
      mail: smtp.arrivals,
      simulator,
      api,
      worker,
      ipnUrl,
      databaseUrl,
      item: { itemNumber: demoPackage.itemNumber, amount: demoPackage.price },
      pids: { api: api.pid, worker: worker.pid, temporal: temporal.process.pid!, postgres: cluster.process.pid!, 'load generator': process.pid, 'mail sink': smtp.process.pid },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
