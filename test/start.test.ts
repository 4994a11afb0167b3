// `npm start` as a newcomer runs it: every service comes up and answers, Ctrl-C stops every
// process it started, and a second start finds the same data. The data folder is mode 700, like a
// checkout under /root: as root, Postgres (run as the postgres user) keeps its cluster elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { launchStack, processesUnder, stackPorts, type StackPorts } from './harness/launcher';

const root = path.join(__dirname, '..');

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

async function runStack(dataDir: string, ports: StackPorts, check: (output: () => string) => Promise<void>) {
  const launched = launchStack(dataDir, ports);
  try {
    await check(launched.output);
  } catch (error) {
    throw new Error(`${String(error)}\n--- launcher output ---\n${launched.output()}`);
  } finally {
    assert.equal(await launched.stop(), 0, `the launcher did not stop cleanly on Ctrl-C:\n${launched.output()}`);
  }
}

/** What is left running of a stack: command lines of processes under its data folders. */
const leftUnder = (...dirs: string[]) => dirs.flatMap((dir) => processesUnder(dir).map((p) => `${p.pid} ${p.cmdline}`));

test('npm start brings up api, Temporal UI, mail UI and stops everything on Ctrl-C', { timeout: 240_000 }, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'keyship-start-')); // mode 700
  const asRoot = process.getuid?.() === 0;
  let postgresData = '';
  try {
    const ports = await stackPorts();
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
                                         FROM packages p JOIN package_files f ON f.package_id = p.id ORDER BY p.item_number`);
      const kinds = await db.query(`SELECT item_number, kind, license_settings IS NOT NULL AS licensed FROM packages ORDER BY item_number`);
      await db.end();
      assert.deepEqual(rows, [
        { item_number: 'KS-DEMO-1', name: 'keyship-field-guide.md', has_bytes: true, sha_len: 64 },
        { item_number: 'KS-DEMO-APP', name: 'keyship-demo-app.txt', has_bytes: true, sha_len: 64 },
      ]);
      assert.deepEqual(kinds.rows, [
        { item_number: 'KS-DEMO-1', kind: 'files', licensed: false },
        { item_number: 'KS-DEMO-APP', kind: 'files', licensed: true },
        { item_number: 'KS-DEMO-EVENT', kind: 'event', licensed: false },
        { item_number: 'KS-DEMO-SUPPORT', kind: 'support', licensed: false },
        { item_number: 'KS-DEMO-WEBCAST', kind: 'access', licensed: false },
      ]);

      // The README's PayPal Checkout line, against this stack (the simulator plays the REST app); then
      // the demo software, whose e-mail also carries a license key and the signed checksums npm start sets up.
      for (const [item, part] of [
        ['KS-DEMO-1', /KS-DEMO-1|Field Guide/],
        ['KS-DEMO-APP', /license key[\s\S]*Signed checksums/i],
      ] as const) {
        const bought = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['paypal/simulate.ts', 'checkout', item, '--outcome', 'card'], {
          cwd: root,
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, PUBLIC_URL: `http://127.0.0.1:${ports.API_PORT}`, PAYPAL_SIMULATOR_URL: `http://127.0.0.1:${ports.PAYPAL_SIMULATOR_PORT}` },
        });
        assert.equal(bought.status, 0, `${bought.stdout}${bought.stderr}`);
        const captureId = /capture (\w+) COMPLETED/.exec(bought.stdout)?.[1];
        assert.ok(captureId, bought.stdout);
        let delivered: { status: string; text_body: string | null } | undefined;
        for (let waited = 0; delivered?.status !== 'fulfilled' && waited < 30_000; waited += 250) {
          const shop = new pg.Client({ connectionString: `postgres://keyship@127.0.0.1:${ports.POSTGRES_PORT}/keyship` });
          await shop.connect();
          delivered = (
            await shop.query<{ status: string; text_body: string | null }>(
              `SELECT i.status, n.text_body FROM invoices i LEFT JOIN notifications n ON n.invoice_id = i.id AND n.kind = 'delivery' AND n.status = 'sent' WHERE i.txn_id = $1`,
              [captureId],
            )
          ).rows[0];
          await shop.end();
          if (delivered?.status !== 'fulfilled') await new Promise((r) => setTimeout(r, 250));
        }
        assert.equal(delivered?.status, 'fulfilled', `the PayPal Checkout purchase of ${item} (${captureId}) was delivered`);
        assert.match(delivered?.text_body ?? '', part, `the delivery e-mail of ${item}`);
      }
      postgresData = postgresDataIn(output());
      if (asRoot) {
        assert.ok(!postgresData.startsWith(dataDir), `as root the cluster must live where the postgres user can reach it, not in ${postgresData}`);
        assert.match(output(), /cannot enter/);
      } else {
        assert.equal(postgresData, path.join(dataDir, 'postgres'));
      }
    });
    assert.deepEqual(leftUnder(dataDir, postgresData), [], 'processes left behind after Ctrl-C');

    // A second start finds the same data: the demo package is not seeded twice.
    await runStack(dataDir, ports, async (output) => {
      await waitFor(`http://127.0.0.1:${ports.API_PORT}/healthz`, 120_000);
      assert.doesNotMatch(output(), /seeded the demo packages?/);
      assert.doesNotMatch(output(), /initialising a PostgreSQL cluster/);
      assert.equal(postgresDataIn(output()), postgresData, 'the second start chose another Postgres data folder');
    });
    assert.deepEqual(leftUnder(dataDir, postgresData), [], 'processes left behind after the second Ctrl-C');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (postgresData) rmSync(postgresData, { recursive: true, force: true });
  }
});
