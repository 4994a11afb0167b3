// The production build: `npm run build` compiles the api, the worker and the migrations to plain
// JavaScript in dist/ with the workflow bundle prebuilt; the built api and worker then run on the
// pinned Node.js with no tsx (as the image runs them), migrate an empty database, and sell: a
// simulator payment ends with the delivery e-mail, whose key downloads the file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { devTemporal, freePort, freshDatabase, smtpCapture, type DevTemporal, type SmtpCapture, type TestDatabase } from './harness';
import { buyerEmail, keysInMail, publicUrl, receiverEmail, seedPackages } from './invoice-fixtures';
import { pinnedNode, startKeyship, testSecrets, until, waitForHttp, writeGuideFiles, type KeyshipProcess } from './production-processes';

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

/** Every file under a folder, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(path.join(dir, f)).isFile());
}

describe('production build: compiled JavaScript in dist/', () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let smtp: SmtpCapture;
  let sim: Simulator;
  let filesDir: string;
  let apiPort: number;
  const processes: KeyshipProcess[] = [];
  let bundlesBefore: string[] = [];

  before(async () => {
    // tsc and webpack on a shared two-core machine: about a minute, so four are the bound.
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8', timeout: 240_000 });
    assert.equal(build.status, 0, `npm run build failed or took over 240 s (exit ${build.signal ?? build.status}):\n${build.stdout}\n${build.stderr}`);
    bundlesBefore = readdirSync(path.join(dist, 'workflow-bundles'));
    [db, temporal, smtp] = await Promise.all([freshDatabase(), devTemporal(), smtpCapture()]);
    filesDir = mkdtempSync(path.join(os.tmpdir(), 'keyship-dist-'));
    writeGuideFiles(filesDir, 1 << 20);
    apiPort = await freePort();
    sim = await startSimulator({ port: 0, ipnUrl: `http://127.0.0.1:${apiPort}/paypal/ipn`, business: receiverEmail });
  });

  after(async () => {
    for (const p of processes) p.kill();
    await Promise.allSettled(processes.map((p) => p.exited));
    for (const p of processes) p.saveLog('production-dist');
    await sim?.close();
    await Promise.all([temporal?.close(), smtp?.close()]);
    await db?.close();
    if (filesDir) rmSync(filesDir, { recursive: true, force: true });
  });

  test('dist/ holds the entry points, the files they read and one prebuilt workflow bundle, and nothing in it loads tsx', () => {
    for (const file of ['api/main.js', 'worker/main.js', 'db/migrate-cli.js', 'db/migrations/0001_data-model.sql', 'db/migrations/0700_invoice-status-check.js', 'mail-templates/delivery.txt', 'paypal/trust/cert-DigiCertHighAssuranceEVRootCA.pem']) {
      assert.ok(existsSync(path.join(dist, file)), `dist/${file} is missing`);
    }
    assert.equal(bundlesBefore.filter((f) => /^workflows-index-[0-9a-f]{20}\.js$/.test(f)).length, 1, `one prebuilt bundle expected, found ${bundlesBefore.join(', ')}`);
    const js = filesUnder(dist).filter((f) => f.endsWith('.js') && !f.startsWith('workflow-bundles'));
    assert.ok(js.length > 50, `only ${js.length} compiled files`);
    const loadingTsx = js.filter((f) => /require\("tsx[/"]|import\("tsx[/"]/.test(readFileSync(path.join(dist, f), 'utf8')));
    assert.deepEqual(loadingTsx, []);
    // The image installs production dependencies only: tsx must not be among them.
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    assert.equal(manifest.dependencies.tsx, undefined, 'tsx is a production dependency');
    assert.equal(manifest.scripts.api, 'node dist/api/main.js');
    assert.equal(manifest.scripts.worker, 'node dist/worker/main.js');
  });

  test('the compiled migrations (npm run migrate\'s dist/db/migrate-cli.js) build the whole schema on an empty database', async () => {
    // freshDatabase copies an already-migrated template, on which they would find nothing to do.
    const admin = new URL(db.url);
    const name = `dist_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`).finally(() => client.end());
    admin.pathname = `/${name}`;
    const migrated = spawnSync(pinnedNode, [path.join(dist, 'db', 'migrate-cli.js')], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, DATABASE_URL: admin.toString() } });
    assert.equal(migrated.status, 0, `the compiled migrations failed on an empty database:\n${migrated.stdout}\n${migrated.stderr}`);
    assert.match(migrated.stdout, /Applied .*0001_data-model.*0700_invoice-status-check/);
    const check = new pg.Client({ connectionString: admin.toString() });
    await check.connect();
    try {
      const { rows } = await check.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY id');
      const fromSource = readdirSync(path.join(root, 'db', 'migrations')).map((f) => f.replace(/\.(sql|ts)$/, '')).sort();
      assert.deepEqual(rows.map((r) => r.name), fromSource, 'the compiled migrations are the source migrations, by name');
    } finally {
      await check.end();
      const drop = new pg.Client({ connectionString: db.url });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => drop.end());
    }
  });

  test('the built api and worker run on the pinned Node.js 24 and deliver a purchase made through the simulator', async () => {
    const version = spawnSync(pinnedNode, ['--version'], { encoding: 'utf8' }).stdout.trim();
    assert.match(version, /^v24\./, 'node_modules/.bin/node is the pinned Node.js 24');
    await seedPackages(db.pool);
    const env = {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: `dist-${randomUUID()}`,
      SMTP_URL: smtp.url,
      PUBLIC_URL: publicUrl,
      PAYPAL_MODE: 'simulator',
      PAYPAL_SIMULATOR_URL: sim.url,
      PAYPAL_RECEIVER_EMAIL: receiverEmail,
      FILES_DIR: filesDir,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      WORKER_METRICS_PORT: '0',
      SHUTDOWN_GRACE: '2s',
      NODE_ENV: 'production',
      ...testSecrets(),
    };
    const api = startKeyship('api', env, { compiled: true });
    const worker = startKeyship('worker', env, { compiled: true });
    processes.push(api, worker);
    await Promise.all([
      waitForHttp(`http://127.0.0.1:${apiPort}/readyz`, 60_000),
      // The prebuilt bundle is loaded, not built: polling starts within seconds.
      worker.waitForLine((l) => l.includes('Keyship worker polling'), 60_000, 'that it polls'),
    ]);
    for (const p of [api, worker]) {
      const cmdline = readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8').split('\0');
      assert.deepEqual(cmdline.slice(1, 2), [path.join(dist, p.name, 'main.js')]);
      assert.ok(!cmdline.includes('tsx'), `${p.name} runs without tsx: ${cmdline.join(' ')}`);
    }

    const email = buyerEmail('dist');
    const paid = await sim.pay({ items: [{ itemNumber: 'GUIDE-1', itemName: 'Field Guide', amount: '19.95' }], payer: { email, firstName: 'Zoë' } });
    assert.deepEqual(paid.ipns.map((i) => i.httpStatus), [200]);
    const [delivery] = await smtp.waitForMessages(1, 30_000, (m) => m.envelope.to.includes(email) && /^Your download:/.test(m.parsed.subject ?? ''));
    const keys = keysInMail(delivery!);
    assert.equal(keys.length, 2, 'the guide and its extras');
    // The run records fulfilment right after the e-mails go.
    await until(async () => ((await db.pool.query<{ status: string }>('SELECT status FROM invoices WHERE txn_id = $1', [paid.txnId])).rows[0]?.status === 'fulfilled' ? true : undefined), 10_000, 'the invoice reaching fulfilled');
    // The compiled api serves the file behind a key (publicUrl is the fixtures' stand-in host).
    const served = await Promise.all(keys.map(async (key) => Buffer.from(await (await fetch(`http://127.0.0.1:${apiPort}/d/${key}`)).arrayBuffer())));
    const guide = readFileSync(path.join(filesDir, 'guide', 'guide.pdf'));
    assert.ok(
      served.some((body) => createHash('sha256').update(body).digest('hex') === createHash('sha256').update(guide).digest('hex')),
      'one key downloads guide.pdf intact',
    );
    assert.deepEqual(readdirSync(path.join(dist, 'workflow-bundles')), bundlesBefore, 'the worker used the prebuilt bundle and built none');
  });

});
