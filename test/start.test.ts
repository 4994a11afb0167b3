// `npm start` as a newcomer runs it: every service comes up and answers, Ctrl-C stops every
// process it started, and a second start finds the same data. The data folder is mode 700, like a
// checkout under /root: as root, Postgres (run as the postgres user) keeps its cluster elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './harness';

const root = path.resolve(__dirname, '..');

async function waitFor(url: string, ms: number): Promise<Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return response;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** The Postgres data folder the launcher says it uses. */
function postgresDataIn(output: string): string {
  const said = /Postgres data +(\S+)/.exec(output)?.[1];
  assert.ok(said, `the launcher did not say where the Postgres data is:\n${output}`);
  return said;
}

/** Processes whose command line or environment names the data folder: everything the launcher started. */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmdline.includes(dir) || environ.includes(`KEYSHIP_DATA_DIR=${dir}`)) found.push(`${pid} ${cmdline.replace(/\0/g, ' ')}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

async function runStack(dataDir: string, ports: Record<string, number>, check: (output: () => string) => Promise<void>) {
  const env: NodeJS.ProcessEnv = { ...process.env, KEYSHIP_DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'ADMIN_TOKEN', 'PUBLIC_URL']) delete env[name];
  const launcher = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'launcher', 'start.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  launcher.stdout.on('data', (c: Buffer) => (output += c.toString()));
  launcher.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
  try {
    await check(() => output);
  } catch (error) {
    throw new Error(`${String(error)}\n--- launcher output ---\n${output}`);
  } finally {
    launcher.kill('SIGINT'); // what Ctrl-C sends
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000))]);
    if (code === 'timeout') launcher.kill('SIGKILL');
    assert.equal(code, 0, `the launcher did not stop cleanly on Ctrl-C:\n${output}`);
  }
}

test('npm start brings up api, Temporal UI, mail UI and stops everything on Ctrl-C', { timeout: 240_000 }, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'keyship-start-')); // mode 700
  const asRoot = process.getuid?.() === 0;
  let postgresData = '';
  try {
    const ports = {
      API_PORT: await freePort(),
      POSTGRES_PORT: await freePort(),
      TEMPORAL_PORT: await freePort(),
      TEMPORAL_UI_PORT: await freePort(),
      MAIL_UI_PORT: await freePort(),
      MAIL_SMTP_PORT: await freePort(),
      PAYPAL_SIMULATOR_PORT: await freePort(),
    };
    await runStack(dataDir, ports, async (output) => {
      const health = await waitFor(`http://127.0.0.1:${ports.API_PORT}/healthz`, 120_000);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await waitFor(`http://127.0.0.1:${ports.API_PORT}/readyz`, 30_000);
      assert.equal(((await ready.json()) as { status: string }).status, 'ready');
      const ui = await waitFor(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`, 30_000);
      assert.match(await ui.text(), /<html/i);
      const mail = await waitFor(`http://127.0.0.1:${ports.MAIL_UI_PORT}/`, 30_000);
      assert.match(await mail.text(), /<html/i);
      await waitFor(`http://127.0.0.1:${ports.API_PORT}/healthz`, 1_000);
      // The launcher prints its list once its own health poll (every 250 ms) has seen the api up,
      // which can be a moment after this test's poll did.
      for (let waited = 0; !output().includes('Keyship is running') && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
      for (const url of [`http://127.0.0.1:${ports.API_PORT}`, `http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`, `http://127.0.0.1:${ports.MAIL_UI_PORT}`]) {
        assert.ok(output().includes(url), `the launcher did not print ${url}`);
      }
      const db = new pg.Client({ connectionString: `postgres://keyship@127.0.0.1:${ports.POSTGRES_PORT}/keyship` });
      await db.connect();
      const { rows } = await db.query(`SELECT p.item_number, f.name, f.size_bytes > 0 AS has_bytes, length(f.sha256) AS sha_len
                                         FROM packages p JOIN package_files f ON f.package_id = p.id`);
      await db.end();
      assert.deepEqual(rows, [{ item_number: 'KS-DEMO-1', name: 'keyship-field-guide.md', has_bytes: true, sha_len: 64 }]);
      postgresData = postgresDataIn(output());
      if (asRoot) {
        assert.ok(!postgresData.startsWith(dataDir), `as root the cluster must live where the postgres user can reach it, not in ${postgresData}`);
        assert.match(output(), /cannot enter/);
      } else {
        assert.equal(postgresData, path.join(dataDir, 'postgres'));
      }
    });
    assert.deepEqual([...processesUnder(dataDir), ...processesUnder(postgresData)], [], 'processes left behind after Ctrl-C');

    // A second start finds the same data: the demo package is not seeded twice.
    await runStack(dataDir, ports, async (output) => {
      await waitFor(`http://127.0.0.1:${ports.API_PORT}/healthz`, 120_000);
      assert.doesNotMatch(output(), /seeded the demo package/);
      assert.doesNotMatch(output(), /initialising a PostgreSQL cluster/);
      assert.equal(postgresDataIn(output()), postgresData, 'the second start chose another Postgres data folder');
    });
    assert.deepEqual([...processesUnder(dataDir), ...processesUnder(postgresData)], [], 'processes left behind after the second Ctrl-C');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (postgresData) rmSync(postgresData, { recursive: true, force: true });
  }
});
