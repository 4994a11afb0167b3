// The thank-you page (PayPal's return URL, PDT `tx`) over real HTTP and in headless Chromium with
// JavaScript off: paid with links, sizes and checksums (a click downloads the file intact),
// pending, the processing page that refreshes itself until the workflow knows (PDT confirmed by
// the PayPal intake's code against the local PayPal simulator, the workflow a stand-in on this
// test's own task queue), and the other outcomes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Worker } from '@temporalio/worker';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { createWorker } from '../worker/create-worker';
import { devTemporal, freshDatabase, workflowBundle, type DevTemporal, type TestDatabase } from './harness';
import { insertPurchase } from './fixtures/downloads';
import { startTestApi, type TestApi } from './fixtures/api-server';
import { chromium, launchChromium, screenshotPath, type TestBrowser } from './fixtures/browser';
import { skipWithout } from './harness/programs';

const keySecret = 'thanks-test-secret-0123456789abcdef0123456789';

describe('the thank-you page', { skip: skipWithout(chromium) }, () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let simulator: Simulator;
  let api: TestApi;
  let browser: TestBrowser;
  const taskQueue = `thanks-${randomUUID()}`;

  before(async () => {
    [db, temporal, browser, simulator] = await Promise.all([freshDatabase(), devTemporal(), launchChromium(), startSimulator({ host: '127.0.0.1', port: 0 })]);
    worker = await createWorker({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      activities: {},
      workflowBundle: await workflowBundle(require.resolve('./fixtures/stand-in-invoice-workflow')),
    });
    running = worker.run();
    api = await startTestApi({
      pool: db.pool,
      temporal: temporal.client,
      env: { TEMPORAL_TASK_QUEUE: taskQueue, KEY_SECRET: keySecret, PAYPAL_MODE: 'simulator', PAYPAL_SIMULATOR_URL: simulator.url, DOWNLOAD_RATE_LIMIT: '0' },
    });
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await simulator?.close();
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.close();
  });

  const buy = (options: Parameters<typeof insertPurchase>[2] = {}) => insertPurchase(db.pool, api.filesDir, { keySecret: Buffer.from(keySecret), ...options });

  test('paid: every file with its link, size and checksums; a click downloads the file intact', async () => {
    const purchase = await buy({ files: [{ name: 'Handbook.pdf' }, { name: 'Extras.zip' }], downloadLimit: 3 });
    const page = await browser.context.newPage();
    const response = await page.goto(`${api.url}/thanks?tx=${purchase.txnId}&st=Completed&amt=9.00&cc=USD`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'Thank you, your payment is complete');
    const links = page.locator('a.download');
    assert.deepEqual(await links.allTextContents(), ['Handbook.pdf', 'Extras.zip']);
    assert.deepEqual(await links.evaluateAll((as) => as.map((a) => a.getAttribute('href'))), purchase.files.map((f) => f.url));
    const text = (await page.locator('main').textContent()) ?? '';
    for (const f of purchase.files) {
      assert.ok(text.includes(f.md5) && text.includes(f.sha256), `${f.name} checksums shown`);
    }
    assert.match(text, /64\.1 KB/);
    assert.match(text, /up to 3 downloads/);
    await page.screenshot({ path: screenshotPath('thanks-paid'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), links.first().click()]);
    assert.equal(download.suggestedFilename(), 'Handbook.pdf');
    const saved = await readFile((await download.path())!);
    assert.equal(createHash('sha256').update(saved).digest('hex'), purchase.files[0]!.sha256);
    await page.close();
  });

  test('paid long ago: no links on the page (the tx is no password), only where the e-mail went', async () => {
    const purchase = await buy({ paidAt: new Date(Date.now() - 2 * 86400_000) });
    const html = await (await fetch(`${api.url}/thanks/${purchase.txnId}`)).text();
    assert.doesNotMatch(html, /\/d\//);
    assert.match(html, /in the e-mail we sent to b\*\*\*@example\.com/);
    assert.ok(html.includes(purchase.files[0]!.sha256));
  });

  test('statuses from Postgres: pending, review, disputed, failed, refunded, expired; a missing tx', async () => {
    const cases: [Parameters<typeof buy>[0], number, RegExp][] = [
      [{ status: 'awaiting_payment', pendingReason: 'echeck' }, 200, /eCheck[\s\S]*e-mail your download links/],
      [{ status: 'needs_review' }, 200, /a person checks this order/],
      [{ status: 'disputed' }, 200, /This purchase is paused[\s\S]*A dispute about this payment is open at PayPal, so this order is paused while PayPal looks at it/],
      [{ status: 'failed' }, 200, /did not go through/],
      [{ status: 'refunded', revokedReason: 'refunded' }, 200, /refunded/],
      [{ expiresAt: new Date(Date.now() - 60_000) }, 200, /links have expired[\s\S]*action="\/d\/request"/],
    ];
    for (const [options, status, text] of cases) {
      const purchase = await buy(options);
      const response = await fetch(`${api.url}/thanks?tx=${purchase.txnId}`);
      assert.equal(response.status, status, JSON.stringify(options));
      const html = await response.text();
      assert.match(html, text, JSON.stringify(options));
      assert.doesNotMatch(html, /http-equiv="refresh"/, 'only the processing page refreshes');
      assert.doesNotMatch(html, /<script/i);
    }
    for (const url of ['/thanks', '/thanks?tx=%3Cscript%3E']) {
      const response = await fetch(api.url + url);
      assert.equal(response.status, 400);
      assert.match(await response.text(), /could not tell which payment/);
    }
  });

  test('back from PayPal before any notification: PDT via the intake, then the page refreshes itself until the workflow knows', async () => {
    const { txnId } = simulator.prepare({ method: 'echeck', items: [{ itemNumber: 'KS-THANKS', amount: '9.00' }], payer: { email: 'slow.payer@example.com' } });
    const page = await browser.context.newPage();
    const response = await page.goto(`${api.url}/thanks?tx=${txnId}&st=Pending`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'Thank you, we are processing your payment');
    assert.equal(await page.locator('meta[http-equiv="refresh"]').getAttribute('content'), `3; url=/thanks/${txnId}?n=1`);
    assert.match((await page.locator('main').textContent()) ?? '', /PayPal reports the payment as Pending/);
    await page.screenshot({ path: screenshotPath('thanks-processing'), fullPage: true });
    const { rows } = await db.pool.query<{ channel: string; verification: string; workflow_id: string }>(
      'SELECT channel, verification, workflow_id FROM paypal_messages WHERE txn_id = $1',
      [txnId],
    );
    assert.deepEqual(rows, [{ channel: 'pdt', verification: 'verified', workflow_id: `invoice-${txnId}` }]);

    // No script: the browser follows the meta refresh, and the workflow's `state` now says pending.
    await page.waitForURL(`${api.url}/thanks/${txnId}?n=1`, { timeout: 10_000 });
    assert.equal(await page.locator('h1').textContent(), 'Thank you, your payment is on its way');
    assert.match((await page.locator('main').textContent()) ?? '', /eCheck[\s\S]*s\*\*\*@example\.com/);
    assert.equal(await page.locator('meta[http-equiv="refresh"]').count(), 0);
    await page.screenshot({ path: screenshotPath('thanks-pending'), fullPage: true });
    await page.close();
  });

  test('a payment nobody heard of stops refreshing after a couple of minutes and says an e-mail will follow', async () => {
    const html = await (await fetch(`${api.url}/thanks/UNKNOWN123?n=40`)).text();
    assert.doesNotMatch(html, /http-equiv="refresh"/);
    assert.match(html, /taking longer than usual/);
  });
});
