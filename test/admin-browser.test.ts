// The admin in headless Chromium against the real api, a real worker (invoice and bulk workflows)
// on the Temporal dev server, Postgres and an SMTP capture: log in, find an invoice by e-mail,
// extend it and see the new expiry and the e-mail; create a package and add a file; run the bulk
// extend on a package with a few invoices and watch it finish; announce a new version by the API.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { createWorker } from '../worker/create-worker';
import { queryInvoiceState, signalInvoice } from '../domain/invoice-client';
import type { BulkProgress } from '../workflows/bulk-messages';
import type { InvoiceStateView } from '../workflows/invoice-state';
import { devTemporal, freshDatabase, smtpCapture, workflowBundle, type DevTemporal, type SmtpCapture, type TestDatabase } from './harness';
import { startTestApi, type TestApi } from './fixtures/api-server';
import { chromium, launchChromium, screenshotPath, type TestBrowser } from './fixtures/browser';
import { skipWithout } from './harness/programs';
import { buyerEmail, newTxnId, notification, seedPackages, StatusAnswers, testActivities } from './invoice-fixtures';
import { insertRawMessage, recordOutcome } from '../db/paypal-messages';

const adminToken = 'browser-admin-token-0123456789';
const day = 86_400_000;
const shown = (ms: number) => `${new Date(ms).toISOString().slice(0, 10)} ${new Date(ms).toISOString().slice(11, 16)} UTC`;

describe('admin pages in Chromium', { skip: skipWithout(chromium) }, () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let smtp: SmtpCapture;
  let worker: Worker;
  let running: Promise<void>;
  let api: TestApi;
  let browser: TestBrowser;
  const taskQueue = `admin-${randomUUID()}`;

  before(async () => {
    [db, temporal, smtp, browser] = await Promise.all([freshDatabase(), devTemporal(), smtpCapture(), launchChromium()]);
    await seedPackages(db.pool);
    worker = await createWorker({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      activities: testActivities(db.pool, smtp.url, new StatusAnswers()),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
    api = await startTestApi({ pool: db.pool, temporal: temporal.client, env: { ADMIN_TOKEN: adminToken, TEMPORAL_TASK_QUEUE: taskQueue } });
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    worker?.shutdown();
    await running;
    await Promise.all([temporal?.close(), smtp?.close()]);
    await db?.close();
  });

  async function buy(label: string, itemNumber = 'GUIDE-1'): Promise<{ txnId: string; email: string; state: InvoiceStateView }> {
    const txnId = newTxnId();
    const email = buyerEmail(label);
    const items = itemNumber === 'GUIDE-1' ? undefined : [{ itemNumber, itemName: 'Quiet Guide', quantity: 1, gross: '5.00' }];
    await signalInvoice(temporal.client, taskQueue, notification(txnId, email, 'Completed', items ? { items, gross: '5.00' } : {}));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const state = await queryInvoiceState(temporal.client, txnId).catch(() => undefined);
      if (state?.status === 'fulfilled' && state.keys) return { txnId, email, state };
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.fail(`invoice ${txnId} was not fulfilled in time`);
  }

  async function loggedInPage() {
    const page = await browser.context.newPage();
    const first = await page.goto(`${api.url}/admin`);
    if (first?.status() === 401) {
      await page.fill('#token', adminToken);
      await Promise.all([page.waitForURL(`${api.url}/admin`), page.getByRole('button', { name: 'Log in' }).click()]);
    }
    return page;
  }

  test('log in, find an invoice by e-mail, extend it: the new expiry shows and the e-mail goes out', async () => {
    const { email, state } = await buy('extend-me');
    const page = await browser.context.newPage();
    const denied = await page.goto(`${api.url}/admin`);
    assert.equal(denied?.status(), 401, 'no session: the login form');
    await page.fill('#token', adminToken);
    await Promise.all([page.waitForURL(`${api.url}/admin`), page.getByRole('button', { name: 'Log in' }).click()]);
    assert.equal(await page.locator('h1').textContent(), 'Needs attention');

    await page.fill('#q', email);
    await Promise.all([page.waitForURL(/\/admin\/invoices\?q=/), page.getByRole('button', { name: 'Find' }).click()]);
    await Promise.all([page.waitForURL(/\/admin\/invoices\/KS-/), page.getByRole('link', { name: state.invoiceNumber! }).click()]);
    const oldExpiry = Date.parse(state.keys!.expiresAt);
    assert.equal(await page.locator('#keys-expire').textContent(), shown(oldExpiry));

    await page.fill('#days', '5');
    await Promise.all([page.waitForURL(/\/actions\/extendKeys$/), page.getByRole('button', { name: 'Extend keys' }).click()]);
    assert.match((await page.getByRole('status').first().textContent()) ?? '', /Extend keys: done; the invoice is fulfilled/);
    assert.equal(await page.locator('#keys-expire').textContent(), shown(oldExpiry + 5 * day));
    const [mail] = await smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(email) && /now last longer/.test(m.parsed.subject ?? ''));
    assert.match(mail!.parsed.text ?? '', new RegExp(`work until ${shown(oldExpiry + 5 * day)}`));
    assert.match((await page.locator('main').textContent()) ?? '', /delivery-extend/, 'the copy of the e-mail is listed');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: screenshotPath('admin-invoice-extended-phone'), fullPage: true });
    await page.close();
  });

  test('the money shows: a partial refund on the invoice page, an open dispute on /admin; a message the verifier could not check is re-checked with its button', async () => {
    const { txnId, email, state } = await buy('money');
    await signalInvoice(temporal.client, taskQueue, notification(txnId, email, 'Refunded', { eventTxnId: newTxnId(), gross: '-2.00', reasonCode: 'refund' }));
    await signalInvoice(temporal.client, taskQueue, notification(txnId, email, 'Disputed', { eventTxnId: 'PP-D-77', items: [], gross: '17.95', dispute: { caseId: 'PP-D-77', stage: 'created', amount: '17.95' } }));
    const deadline = Date.now() + 20_000;
    while ((await queryInvoiceState(temporal.client, txnId))?.status !== 'disputed') {
      assert.ok(Date.now() < deadline, 'the invoice never reached disputed');
      await new Promise((r) => setTimeout(r, 150));
    }
    // This api's IPN verifier is unreachable (nothing listens at its verify URL), as it was when the message came.
    const junk = await insertRawMessage(db.pool, { channel: 'ipn', raw: Buffer.from('txn_id=RECHECK1&payment_status=Completed'), headers: {} });
    await recordOutcome(db.pool, junk, 'retry', 'the verifier could not be reached', { verification: 'error', detail: 'unreachable' });

    const page = await loggedInPage();
    const main = (await page.locator('main').textContent()) ?? '';
    assert.match(main, new RegExp(`Open disputes \\(\\d+\\)[\\s\\S]*${state.invoiceNumber}`));
    assert.match(main, new RegExp(`PayPal messages not verified[\\s\\S]*#${junk}`));
    await page.goto(`${api.url}/admin/invoices/${state.invoiceNumber}`);
    assert.equal(await page.locator('#money-refunded').textContent(), '2.00 USD');
    assert.match((await page.locator('#money-disputed').textContent()) ?? '', /17\.95 USD · case PP-D-77: open/);
    assert.match((await page.locator('main').textContent()) ?? '', /workflow: partial refund.*2\.00 of 19\.95 so far/);

    await page.goto(`${api.url}/admin`);
    await Promise.all([page.waitForURL(new RegExp(`/admin/messages/${junk}/recheck$`)), page.locator(`form[action="/admin/messages/${junk}/recheck"] button`).click()]);
    assert.match((await page.getByRole('status').first().textContent()) ?? '', new RegExp(`Message #${junk} could not be checked now \\(PayPal's IPN verifier at .* could not be reached.*\\); nothing was routed: try the re-check again later`));
    const { rows } = await db.pool.query('SELECT verification, outcome FROM paypal_messages WHERE id = $1', [junk]);
    assert.deepEqual(rows, [{ verification: 'error', outcome: 'retry' }], 'still waiting for a re-check or a resend');
    await page.close();
  });

  test('create a package, then add a file by upload and one by a path inside FILES_DIR', async () => {
    const page = await loggedInPage();
    await page.goto(`${api.url}/admin/packages/new`);
    await page.fill('#itemNumber', 'EVENT-7');
    await page.fill('#name', 'Webcast seat');
    await page.fill('#price', '12.50');
    await page.fill('#keyTtl', '2d');
    await Promise.all([page.waitForURL(`${api.url}/admin/packages/EVENT-7`), page.getByRole('button', { name: 'Create package' }).click()]);
    assert.match((await page.locator('h1').textContent()) ?? '', /Webcast seat/);

    const agenda = Buffer.from('Agenda: 10:00 welcome, 10:15 keys and checksums.\n');
    await page.setInputFiles('#upload', { name: 'agenda.txt', mimeType: 'text/plain', buffer: agenda });
    await Promise.all([page.waitForURL(/\/files$/), page.getByRole('button', { name: 'Add file' }).click()]);
    const sha = createHash('sha256').update(agenda).digest('hex');
    assert.match((await page.getByRole('status').textContent()) ?? '', new RegExp(`File added: ${agenda.length} bytes, SHA-256 ${sha}`));
    assert.match((await page.locator('main').textContent()) ?? '', new RegExp(`MD5 ${createHash('md5').update(agenda).digest('hex')}`));

    const big = Buffer.alloc(300_000, 7);
    await mkdir(path.join(api.filesDir, 'incoming'), { recursive: true });
    await writeFile(path.join(api.filesDir, 'incoming', 'recording.bin'), big);
    await page.fill('#path', 'incoming/recording.bin');
    await Promise.all([page.waitForURL(/\/files$/), page.getByRole('button', { name: 'Add file' }).click()]);
    assert.match((await page.getByRole('status').textContent()) ?? '', /File added: 300000 bytes/);
    await page.fill('#path', '../../etc/passwd');
    await Promise.all([page.waitForURL(/\/files$/), page.getByRole('button', { name: 'Add file' }).click()]);
    assert.match((await page.getByRole('status').textContent()) ?? '', /outside FILES_DIR|no file/);

    const { rows } = await db.pool.query<{ name: string; storage_path: string; sha256: string; key_ttl_seconds: number }>(
      `SELECT f.name, f.storage_path, f.sha256, p.key_ttl_seconds FROM package_files f JOIN packages p ON p.id = f.package_id WHERE p.item_number = 'EVENT-7' ORDER BY f.name`,
    );
    assert.deepEqual(rows.map((r) => [r.name, r.key_ttl_seconds]), [['agenda.txt', 172800], ['recording.bin', 172800]]);
    assert.deepEqual(await readFile(path.join(api.filesDir, rows[0]!.storage_path)), agenda);
    assert.match((await page.locator('pre').first().textContent()) ?? '', /name="item_number" value="EVENT-7"/, 'the Buy Now button code');
    await page.screenshot({ path: screenshotPath('admin-package'), fullPage: true });
    await page.close();
  });

  test('bulk extend of a package with a few invoices shows its progress and moves every expiry; a new version reaches every buyer', async () => {
    const buyers = await Promise.all([buy('bulk-a', 'NOREMIND'), buy('bulk-b', 'NOREMIND'), buy('bulk-c', 'NOREMIND')]);
    const page = await loggedInPage();
    await page.goto(`${api.url}/admin/packages/NOREMIND`);
    await page.fill('#bulk-days', '2');
    await Promise.all([page.waitForURL(/\/admin\/bulk\/bulk-extend-NOREMIND-/), page.getByRole('button', { name: 'Extend every live key' }).click()]);
    const workflowId = decodeURIComponent(page.url().split('/admin/bulk/')[1]!);
    const deadline = Date.now() + 30_000;
    while ((await page.locator('#bulk-status').textContent()) !== 'COMPLETED' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      await page.reload();
    }
    assert.equal(await page.locator('#bulk-progress').textContent(), '3 of 3 done: 3 ok, 0 refused, 0 failed');
    await page.screenshot({ path: screenshotPath('admin-bulk-extend'), fullPage: true });

    for (const b of buyers) {
      const { rows } = await db.pool.query<{ keys_expire_at: Date }>('SELECT keys_expire_at FROM invoices WHERE txn_id = $1', [b.txnId]);
      assert.equal(rows[0]!.keys_expire_at.getTime(), Date.parse(b.state.keys!.expiresAt) + 2 * day, `${b.email}'s keys moved by two days`);
    }
    const description = await temporal.client.workflow.getHandle(workflowId).describe();
    assert.deepEqual(description.memo?.progress, { total: 3, done: 3, succeeded: 3, refused: 0, failed: 0 }, 'progress in the memo the Temporal UI shows');

    const auth = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
    const started = await fetch(`${api.url}/api/admin/packages/NOREMIND/bulk/new-version`, { method: 'POST', headers: auth, body: JSON.stringify({ days: 1, note: 'Version 2 adds an index.' }) });
    assert.equal(started.status, 202);
    const { progressUrl } = (await started.json()) as { progressUrl: string };
    let status: { status: string; progress?: BulkProgress } = { status: '' };
    while (status.status !== 'COMPLETED' && Date.now() < deadline + 30_000) {
      await new Promise((r) => setTimeout(r, 300));
      status = (await (await fetch(api.url + progressUrl, { headers: auth })).json()) as typeof status;
    }
    assert.equal(status.progress?.succeeded, 3);
    for (const b of buyers) {
      const [news] = await smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(b.email) && /A new version of Quiet Guide/.test(m.parsed.subject ?? ''));
      assert.match(news!.parsed.text ?? '', /Version 2 adds an index\./);
    }

    const found = (await (await fetch(`${api.url}/api/admin/invoices?item=NOREMIND&status=fulfilled`, { headers: auth })).json()) as { rows: { number: string }[] };
    assert.equal(found.rows.length, 3);
    const refused = await fetch(`${api.url}/api/admin/invoices/${found.rows[0]!.number}/actions/approve`, { method: 'POST', headers: { Authorization: auth.Authorization } });
    assert.equal(refused.status, 409);
    assert.match(((await refused.json()) as { error: string }).error, /only an invoice that needs review can be approved/);
    await page.close();
  });
});
