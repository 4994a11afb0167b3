// `npm start`: the whole Keyship stack on 127.0.0.1 in one command, data kept under .data/.
// Postgres (unless DATABASE_URL is set), the Temporal dev server with its Web UI (unless
// TEMPORAL_ADDRESS is set), a mail catcher with a web UI (unless SMTP_URL is set), the PayPal
// simulator (when PAYPAL_MODE=simulator), the worker and the api. A service that dies is reported and
// restarted (supervisor.ts); Ctrl-C stops them all, in order.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, loadConfigOrExit } from '../config/env';
import { clusterDataDir, startCluster, ensureDatabase, type Cluster } from '../db/cluster';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { startDevServer, type DevServer } from '../temporal-server/dev-server';
import { installTemporalExecutables } from '../temporal-server/install';
import { demoPackage, seedDemoPackages } from '../catalog/demo-seed';
import { startChild, startTsChild } from './children';
import { Supervisor } from './supervisor';
import { workerNodeOptions } from '../worker/memory';
import { generateSecretKeyFile } from '../domain/minisign';
import { signingKeyFromConfig } from '../domain/signing-key';

const root = path.resolve(__dirname, '..');
// KEYSHIP_DATA_DIR moves the whole data folder (the launcher's own test uses a temporary one).
const dataDir = path.resolve(process.env.KEYSHIP_DATA_DIR ?? path.join(root, '.data'));

// Ports of the embedded services; each can be moved with its variable.
const ports = z
  .object({
    POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(5433),
    TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
    TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
    MAIL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8025),
    MAIL_SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(1025),
    PAYPAL_SIMULATOR_PORT: z.coerce.number().int().min(1).max(65535).default(8090),
  })
  .safeParse(process.env);

function log(line: string) {
  process.stdout.write(`[keyship] ${line}\n`);
}

/**
 * A secret made once and kept in .data, so it survives restarts: the admin login (ADMIN_TOKEN) and
 * the key derivation secret (KEY_SECRET, which must not change while keys are out). The
 * environment wins.
 */
function persistedSecret(variable: string, fileName: string, bytes: number): string {
  const fromEnv = process.env[variable];
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, fileName);
  if (!existsSync(file)) writeFileSync(file, randomBytes(bytes).toString('hex') + '\n', { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * Simulator mode signs each delivery's SHA256SUMS (docs/package-kinds.md) with a minisign key made
 * once and kept in .data, as a seller keeps theirs; SIGNING_KEY_FILE wins, and the other modes
 * sign only when it is set (a real shop's buyers must be able to trust the key for years).
 */
function persistedSigningKey(mode: string): string | undefined {
  if (process.env.SIGNING_KEY_FILE) return process.env.SIGNING_KEY_FILE;
  if (mode !== 'simulator') return undefined;
  const file = path.join(dataDir, 'minisign.key');
  if (!existsSync(file)) writeFileSync(file, generateSecretKeyFile(), { mode: 0o600 });
  return file;
}

async function main() {
  if (!ports.success) {
    for (const issue of ports.error.issues) console.error(`Keyship cannot start: ${String(issue.path[0])} must be a port number from 1 to 65535.`);
    process.exit(2);
  }
  const p = ports.data;
  mkdirSync(dataDir, { recursive: true });
  // What the environment names is used as it is; the rest runs here.
  const embedded = { postgres: !process.env.DATABASE_URL, temporal: !process.env.TEMPORAL_ADDRESS, mail: !process.env.SMTP_URL };
  const env: NodeJS.ProcessEnv = { ...process.env };
  env.ADMIN_TOKEN = persistedSecret('ADMIN_TOKEN', 'admin-token', 24);
  env.KEY_SECRET = persistedSecret('KEY_SECRET', 'key-secret', 32);
  const signingKeyFile = persistedSigningKey(process.env.PAYPAL_MODE || 'simulator');
  if (signingKeyFile) env.SIGNING_KEY_FILE = signingKeyFile;
  env.TEMPORAL_ADDRESS ||= `127.0.0.1:${p.TEMPORAL_PORT}`;
  env.SMTP_URL ||= `smtp://127.0.0.1:${p.MAIL_SMTP_PORT}`;
  env.PAYPAL_SIMULATOR_URL ||= `http://127.0.0.1:${p.PAYPAL_SIMULATOR_PORT}`;
  env.FILES_DIR ||= path.join(dataDir, 'files');
  env.PUBLIC_URL ||= `http://127.0.0.1:${env.API_PORT || 3000}`;
  env.DATABASE_URL ||= `postgres://keyship@127.0.0.1:${p.POSTGRES_PORT}/keyship`;
  // Validate with the environment the children will get, before starting anything.
  Object.assign(process.env, env);
  const checked = loadConfigOrExit({ require: ['ADMIN_TOKEN'] });
  try {
    signingKeyFromConfig(checked); // the worker and the api would refuse it after everything started
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Keyship cannot start: ${error.message}`);
    process.exit(2);
  }

  let postgresData: { dir: string; moved: boolean } | undefined;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping ...');
    await supervisor.stopAll((name, error) => log(error ? `${name} did not stop cleanly: ${String(error)}` : `${name} stopped`));
    process.exit(code);
  };
  const supervisor = new Supervisor({
    log,
    giveUp: (name, why) => {
      log(`${why}; stopping Keyship. Its last lines are above: fix what they say and run npm start again (the data in ${dataDir} is kept).`);
      void stopAll(1);
    },
    // The start-up list's services, as they are now (the api's /readyz says the same of Postgres and Temporal).
    changed: (states) => log(`services: ${Object.entries(states).map(([name, state]) => `${name} ${state}`).join(', ')}`),
  });
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    if (embedded.postgres) {
      const pgData = clusterDataDir(path.join(dataDir, 'postgres'), path.basename(root));
      postgresData = pgData;
      log(
        pgData.moved
          ? `Postgres data     ${pgData.dir}   (the postgres user, which runs Postgres for root, cannot enter ${dataDir})`
          : `Postgres data     ${pgData.dir}`,
      );
      const cluster: Cluster = await supervisor.start({
        name: 'postgres',
        start: (line) =>
          // After a crash Postgres recovers from its write-ahead log in the same data folder.
          startCluster({
            dataDir: pgData.dir,
            port: p.POSTGRES_PORT,
            // Postgres narrates every start and checkpoint at LOG level, and refuses the launcher's own
            // probes while it starts or recovers; show only what needs a look.
            log: (text) => {
              line(text);
              if (!/\bLOG: |the database system is (starting up|not yet accepting connections)|Consistent recovery state has not been yet reached/.test(text)) {
                process.stdout.write(`[postgres] ${text}\n`);
              }
            },
          }),
      });
      await ensureDatabase(cluster.adminUrl, 'keyship');
      log(`Postgres          ${checked.databaseUrl}`);
    }
    const migrated = await migrate(checked.databaseUrl);
    if (migrated.length) log(`migrations applied: ${migrated.join(', ')}`);
    const pool = createPool(checked.databaseUrl, { max: 2 });
    const seeded = await seedDemoPackages(pool, checked.filesDir);
    await pool.end();
    if (seeded.length) log(`seeded the demo packages ${seeded.join(', ')}`);

    if (embedded.temporal) {
      installTemporalExecutables();
      mkdirSync(path.join(dataDir, 'temporal'), { recursive: true });
      await supervisor.start({
        name: 'temporal',
        start: (line): Promise<DevServer> =>
          startDevServer({
            port: p.TEMPORAL_PORT,
            uiPort: p.TEMPORAL_UI_PORT,
            dbFile: path.join(dataDir, 'temporal', 'temporal.db'),
            namespace: checked.temporal.namespace,
            logLevel: 'error', // its own shutdown is narrated at warn
            log: (text) => {
              line(text);
              process.stdout.write(`[temporal] ${text}\n`);
            },
          }),
      });
    }

    if (embedded.mail) {
      mkdirSync(path.join(dataDir, 'mail'), { recursive: true });
      await supervisor.start({
        name: 'mail',
        start: async (line) =>
          startChild(
            'mail',
            process.execPath,
            [
              path.join(root, 'node_modules', 'maildev', 'bin', 'maildev'),
              '--ip', '127.0.0.1', '--smtp', String(p.MAIL_SMTP_PORT),
              '--web-ip', '127.0.0.1', '--web', String(p.MAIL_UI_PORT),
              '--mail-directory', path.join(dataDir, 'mail'),
            ],
            { env, onLine: line },
          ),
      });
    }

    const simulatorEntry = path.join(root, 'paypal', 'simulator', 'main.ts');
    if (checked.paypal.mode === 'simulator' && existsSync(simulatorEntry)) {
      env.PAYPAL_SIMULATOR_PORT = String(p.PAYPAL_SIMULATOR_PORT);
      const simulatorEnv = { ...env, PAYPAL_SIMULATOR_DATA: env.PAYPAL_SIMULATOR_DATA || path.join(dataDir, 'paypal-simulator') };
      await supervisor.start({ name: 'paypal-simulator', start: async (line) => startTsChild('paypal-simulator', simulatorEntry, simulatorEnv, line) });
    }

    const workerEnv = { ...env, NODE_OPTIONS: workerNodeOptions(env.NODE_OPTIONS) };
    await supervisor.start({ name: 'worker', start: async (line) => startTsChild('worker', path.join(root, 'worker', 'main.ts'), workerEnv, line) });
    await supervisor.start({ name: 'api', start: async (line) => startTsChild('api', path.join(root, 'api', 'main.ts'), env, line) });
    await waitForHttp(`http://${checked.apiHost}:${checked.apiPort}/healthz`, 30_000);

    const lines = [
      '',
      `Keyship is running. Ctrl-C stops everything; data stays in ${postgresData?.moved ? `${dataDir} and ${postgresData.dir}` : '.data/'} for the next npm start.`,
      `  Node.js           ${process.version}`,
      `  api / store       ${checked.publicUrl}   (health: ${checked.publicUrl}/healthz)`,
      `  demo store        ${checked.publicUrl}/store   (the book ${demoPackage.itemNumber}, and a web-cast, an event seat, support and software)`,
      `  admin             ${checked.publicUrl}/admin   (token in .data/admin-token or ADMIN_TOKEN)`,
      ...(checked.invoice.signingKeyFile ? [`  signing key       ${checked.publicUrl}/minisign.pub   (secret key in ${checked.invoice.signingKeyFile})`] : []),
      `  Temporal          ${checked.temporal.address}, namespace ${checked.temporal.namespace}`,
      supervisor.has('temporal') ? `  Temporal Web UI   http://127.0.0.1:${p.TEMPORAL_UI_PORT}` : '',
      supervisor.has('mail') ? `  mail catcher UI   http://127.0.0.1:${p.MAIL_UI_PORT}   (SMTP ${checked.smtpUrl})` : `  SMTP              ${checked.smtpUrl}`,
      checked.paypal.mode === 'simulator' ? `  PayPal simulator  ${checked.paypal.simulatorUrl}   (npm run simulate -- --help)` : `  PayPal            ${checked.paypal.mode}`,
      `  Postgres          ${checked.databaseUrl.replace(/:[^:@/]+@/, ':…@')}`,
      '',
    ];
    for (const line of lines) if (line !== '') log(line); else process.stdout.write('\n');
  } catch (error) {
    log(`could not start: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
  }
}

async function waitForHttp(url: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

void main();
