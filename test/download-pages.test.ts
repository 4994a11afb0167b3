// The pages a download link shows when it gives no file, in headless Chromium with JavaScript off:
// what they say, the fresh-link request an operator sees, and the self-service renewal, which
// signals `extendKeys` to the invoice workflow (a stand-in on this test's own task queue).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { createWorker } from '../worker/create-worker';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import { state } from '../workflows/messages';
import { devTemporal, freshDatabase, workflowBundle, type DevTemporal, type TestDatabase } from './harness';
import { insertPurchase } from './fixtures/downloads';
import { startTestApi, type TestApi } from './fixtures/api-server';
import { chromium, launchChromium, screenshotPath, type TestBrowser } from './fixtures/browser';
import { skipWithout } from './harness/programs';

describe('download link pages in Chromium', { skip: skipWithout(chromium) }, () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let api: TestApi;
  let browser: TestBrowser;
  const taskQueue = `downloads-${randomUUID()}`;

  before(async () => {
    [db, temporal, browser] = await Promise.all([freshDatabase(), devTemporal(), launchChromium()]);
    worker = await createWorker({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      activities: {},
      workflowBundle: await workflowBundle(require.resolve('./fixtures/stand-in-invoice-workflow')),
    });
    running = worker.run();
    api = await startTestApi({ pool: db.pool, temporal: temporal.client, env: { TEMPORAL_TASK_QUEUE: taskQueue, DOWNLOAD_RATE_LIMIT: '0' } });
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.close();
  });

  test('an expired key of a self-service package renews itself once a day through extendKeys', async () => {
    const purchase = await insertPurchase(db.pool, api.filesDir, { expiresAt: new Date(Date.now() - 3600_000), selfService: true, keyTtlSeconds: 2 * 86400 });
    const page = await browser.context.newPage();
    const response = await page.goto(api.url + purchase.files[0]!.url);
    assert.equal(response?.status(), 410);
    assert.equal(await page.locator('h1').textContent(), 'This download link has expired');
    await page.screenshot({ path: screenshotPath('download-expired-self-service'), fullPage: true });

    const [renewal] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'E-mail me a fresh link' }).click()]);
    assert.equal(renewal?.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'A fresh link is on its way');
    assert.match((await page.locator('main').textContent()) ?? '', /another 2 days[\s\S]*b\*\*\*@example\.com/);
    await page.screenshot({ path: screenshotPath('download-renewal-sent'), fullPage: true });

    const view = await temporal.client.workflow.getHandle(invoiceWorkflowId(purchase.txnId)).query(state);
    const extends_ = view.events.filter((e) => e.kind === 'extendKeys').map((e) => JSON.parse(e.detail) as unknown);
    assert.deepEqual(extends_, [{ days: 2, by: 'buyer (self-service)' }]);
    const { rows } = await db.pool.query('SELECT kind, status, email, key_problem FROM link_requests WHERE invoice_id = $1', [purchase.invoiceId]);
    assert.deepEqual(rows, [{ kind: 'self_service', status: 'renewed', email: purchase.payerEmail, key_problem: 'expired' }]);

    // A second click the same day sends nothing more.
    await page.goBack();
    const [again] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'E-mail me a fresh link' }).click()]);
    assert.equal(again?.status(), 429);
    assert.equal(await page.locator('h1').textContent(), 'A fresh link was sent recently');
    assert.equal((await temporal.client.workflow.getHandle(invoiceWorkflowId(purchase.txnId)).query(state)).events.filter((e) => e.kind === 'extendKeys').length, 1);
    await page.close();
  });

  test('a key that may not renew itself offers the request form; the request is stored for the operator', async () => {
    const purchase = await insertPurchase(db.pool, api.filesDir, { downloadLimit: 1 });
    await db.pool.query('UPDATE download_keys SET bytes_charged = 10 * 1024 * 1024 WHERE id = $1', [purchase.files[0]!.keyId]);
    const page = await browser.context.newPage();
    const response = await page.goto(api.url + purchase.files[0]!.url);
    assert.equal(response?.status(), 410);
    assert.equal(await page.locator('h1').textContent(), 'This download link has been used up');
    assert.equal(await page.getByRole('button', { name: 'E-mail me a fresh link' }).count(), 0);
    await page.screenshot({ path: screenshotPath('download-exhausted'), fullPage: true });

    await page.getByLabel('Your e-mail address').fill(purchase.payerEmail);
    await page.getByLabel('Anything we should know').fill('My download stopped at 90% and the link is used up.');
    const [sent] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Send request' }).click()]);
    assert.equal(sent?.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'We have your request');
    await page.screenshot({ path: screenshotPath('download-request-received'), fullPage: true });
    const { rows } = await db.pool.query(
      'SELECT kind, status, email, key_problem, invoice_id, download_key_id, message FROM link_requests WHERE email = $1',
      [purchase.payerEmail],
    );
    assert.deepEqual(rows, [
      {
        kind: 'operator',
        status: 'open',
        email: purchase.payerEmail,
        key_problem: 'exhausted',
        invoice_id: purchase.invoiceId,
        download_key_id: purchase.files[0]!.keyId,
        message: 'My download stopped at 90% and the link is used up.',
      },
    ]);
    await page.close();
  });

  test('an unknown key: the request form matches the invoice only when number and e-mail agree, and says the same either way', async () => {
    const purchase = await insertPurchase(db.pool, api.filesDir);
    const page = await browser.context.newPage();
    const response = await page.goto(`${api.url}/d/${randomBytes(32).toString('base64url')}`);
    assert.equal(response?.status(), 404);
    await page.screenshot({ path: screenshotPath('download-unknown'), fullPage: true });
    for (const email of [purchase.payerEmail, 'someone.else@example.com']) {
      await page.getByLabel('Your e-mail address').fill(email);
      await page.getByLabel('Invoice number').fill(purchase.number);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Send request' }).click()]);
      assert.equal(await page.locator('h1').textContent(), 'We have your request');
      await page.goBack();
    }
    const { rows } = await db.pool.query('SELECT email, invoice_id, invoice_ref FROM link_requests WHERE invoice_ref = $1 ORDER BY id', [purchase.number]);
    assert.deepEqual(rows, [
      { email: purchase.payerEmail, invoice_id: purchase.invoiceId, invoice_ref: purchase.number },
      { email: 'someone.else@example.com', invoice_id: null, invoice_ref: purchase.number },
    ]);
    // A request without a usable address is shown again with a sentence saying what to fix.
    const bad = await fetch(`${api.url}/d/request`, { method: 'POST', body: new URLSearchParams({ email: 'not-an-address', problem: 'unknown' }) });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Please give an e-mail address/);
    // A NUL in the message (Postgres text cannot hold one) is refused by the form, not by the database.
    const nul = await fetch(`${api.url}/d/request`, { method: 'POST', body: new URLSearchParams({ email: purchase.payerEmail, message: 'hello\0', problem: 'unknown' }) });
    assert.equal(nul.status, 400);
    assert.match(await nul.text(), /a character we cannot keep \(a NUL, U\+0000\)/);
    await page.close();
  });
});
