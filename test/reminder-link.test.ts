// The expiry reminder's one-click link for more time, over real HTTP against the real invoice
// workflow on the time-skipping server: where the package allows self-service it extends the keys
// at once (and e-mails them); otherwise it files a fresh-link request for a person. The link works
// once, and not after the invoice's run has closed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../api/app';
import { loadConfig } from '../config/env';
import { queryInvoiceState, signalInvoice } from '../domain/invoice-client';
import { createWorker } from '../worker/create-worker';
import type { InvoiceStateView } from '../workflows/invoice-state';
import { freshDatabase, smtpCapture, timeSkipping, workflowBundle, type SmtpCapture, type TestDatabase } from './harness';
import { buyerEmail, newTxnId, notification, publicUrl, seedPackages, StatusAnswers, testActivities } from './invoice-fixtures';

describe('the reminder link for more time', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let worker: Worker;
  let running: Promise<void>;
  let server: ServerType;
  let apiUrl: string;
  const taskQueue = 'reminder-link-test';

  before(async () => {
    [env, db, smtp] = await Promise.all([timeSkipping(), freshDatabase(), smtpCapture()]);
    await seedPackages(db.pool);
    await db.pool.query(`
      INSERT INTO packages (item_number, name, currency, price, reminder_hours, self_service)
      VALUES ('SELF-1', 'Self Guide', 'USD', 10.00, 24, true), ('ASK-1', 'Asking Guide', 'USD', 10.00, 24, false);
      INSERT INTO package_files (package_id, name, storage_path, size_bytes, md5, sha256)
      SELECT id, lower(item_number) || '.pdf', lower(item_number) || '/file.pdf', 10, repeat('1', 32), repeat('2', 64) FROM packages WHERE item_number IN ('SELF-1', 'ASK-1')`);
    worker = await createWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, activities: testActivities(db.pool, smtp.url, new StatusAnswers()), workflowBundle: await workflowBundle() });
    running = worker.run();
    const app = createApp({ config: loadConfig({ DATABASE_URL: db.url, TEMPORAL_TASK_QUEUE: taskQueue, PUBLIC_URL: publicUrl }), pool: db.pool, temporal: env.client });
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await Promise.all([env?.teardown(), db?.close(), smtp?.close()]);
  });

  async function until(txnId: string, ok: (s: InvoiceStateView) => boolean, what: string, ms = 15_000): Promise<InvoiceStateView> {
    const deadline = Date.now() + ms;
    let last: InvoiceStateView | undefined;
    while (Date.now() < deadline) {
      last = await queryInvoiceState(env.client, txnId).catch(() => undefined);
      if (last && ok(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`invoice ${txnId} never reached "${what}"; last state: ${JSON.stringify(last)}`);
  }

  /** Paid for `itemNumber`, then two days on: the reminder's "more time" path, read from the e-mail. */
  async function reminded(itemNumber: string) {
    const txnId = newTxnId();
    const email = buyerEmail(itemNumber.toLowerCase());
    await signalInvoice(env.client, taskQueue, notification(txnId, email, 'Completed', { items: [{ itemNumber, quantity: 1 }], gross: '10.00' }));
    const paid = await until(txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    await env.sleep('49 hours');
    const [mail] = await smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(email) && /expire/.test(m.parsed.subject ?? ''));
    const text = mail!.parsed.text ?? '';
    const link = new RegExp(`${publicUrl.replace(/[.:/]/g, '\\$&')}(/d/more-time/[A-Za-z0-9_-]{43})`).exec(text)?.[1];
    assert.ok(link, `the reminder carries a more-time link:\n${text}`);
    assert.match(String(mail!.parsed.html), /Ask for it with one click/);
    return { txnId, email, paid, link: link! };
  }

  const page = async (method: 'GET' | 'POST', link: string) => {
    const response = await fetch(`${apiUrl}${link}`, { method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: method === 'POST' ? '' : undefined });
    return { status: response.status, text: await response.text() };
  };

  test('self-service: one click extends the keys at once and e-mails them; a second click says it was used', async () => {
    const { txnId, email, paid, link } = await reminded('SELF-1');
    const shown = await page('GET', link);
    assert.equal(shown.status, 200);
    assert.match(shown.text, /Extend my links/);
    assert.equal((await queryInvoiceState(env.client, txnId))?.keys?.expiresAt, paid.keys?.expiresAt, 'opening the link changes nothing');

    const clicked = await page('POST', link);
    assert.equal(clicked.status, 200);
    assert.match(clicked.text, /A fresh link is on its way/);
    const extended = await until(txnId, (s) => s.keys!.expiresAt > paid.keys!.expiresAt, 'keys extended');
    assert.equal(Date.parse(extended.keys!.expiresAt) - Date.parse(paid.keys!.expiresAt), 3 * 86_400_000, 'by the key lifetime (KEY_TTL, 3 days)');
    assert.match(extended.events.map((e) => e.detail).join('\n'), /by buyer \(reminder link\)/);
    await smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(email) && /again|extended|longer/i.test(m.parsed.subject ?? ''));

    const twice = await page('POST', link);
    assert.equal(twice.status, 409);
    assert.match(twice.text, /This link was already used/);
    assert.match(twice.text, /your links were extended then/);
    const { rows } = await db.pool.query("SELECT kind, status FROM link_requests WHERE invoice_id = (SELECT id FROM invoices WHERE txn_id = $1)", [txnId]);
    assert.deepEqual(rows, [{ kind: 'self_service', status: 'renewed' }]);
  });

  test("without self-service: one click files the fresh-link request the operator sees; the keys are not touched", async () => {
    const { txnId, paid, link } = await reminded('ASK-1');
    const shown = await page('GET', link);
    assert.match(shown.text, /Ask for more time/);
    const clicked = await page('POST', link);
    assert.equal(clicked.status, 200);
    assert.match(clicked.text, /We have your request/);
    const { rows } = await db.pool.query<{ kind: string; status: string; message: string }>(
      'SELECT kind, status, message FROM link_requests WHERE invoice_id = (SELECT id FROM invoices WHERE txn_id = $1)',
      [txnId],
    );
    assert.deepEqual(rows, [{ kind: 'operator', status: 'open', message: 'The buyer asked for more time with the link in the expiry reminder.' }]);
    assert.equal((await queryInvoiceState(env.client, txnId))?.keys?.expiresAt, paid.keys?.expiresAt);
    const twice = await page('POST', link);
    assert.equal(twice.status, 409);
    assert.match(twice.text, /already used/);
    assert.equal((await db.pool.query('SELECT 1 FROM link_requests WHERE invoice_id = (SELECT id FROM invoices WHERE txn_id = $1)', [txnId])).rowCount, 1, 'still one request');
  });

  test('the link expires with the invoice run, and a made-up link is unknown', async () => {
    const { txnId, link } = await reminded('ASK-1');
    const { rows } = await db.pool.query<{ expires_at: Date }>('SELECT l.expires_at FROM reminder_links l JOIN invoices i ON i.id = l.invoice_id WHERE i.txn_id = $1', [txnId]);
    const state = await queryInvoiceState(env.client, txnId);
    assert.equal(rows[0]?.expires_at.toISOString(), state?.closesAt, "valid until the invoice's run closes");
    await env.client.workflow.getHandle(`invoice-${txnId}`).result(); // skips to the run's close
    const late = await page('POST', link);
    assert.equal(late.status, 410);
    assert.match(late.text, /This link has expired/);
    assert.equal((await page('GET', '/d/more-time/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status, 404);
  });
});
