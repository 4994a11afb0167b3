// The demo store in a real browser: /store renders each package's Buy Now button, the button leads
// to the PayPal simulator's checkout, paying there sends the IPN back to Keyship and the buyer to
// the return URL with PDT's `tx`; cancelling returns to the store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createApp } from '../api/app';
import { loadConfig } from '../config/env';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { devTemporal, freshDatabase, type DevTemporal, type TestDatabase } from './harness';
import { lateServer, type LateServer } from './fixtures/late-server';
import { chromium, launchChromium, type TestBrowser } from './fixtures/browser';
import { skipWithout } from './harness/programs';

describe('demo store and simulator checkout', { skip: skipWithout(chromium) }, () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let sim: Simulator;
  let server: LateServer;
  let browser: TestBrowser;
  let apiUrl: string;

  before(async () => {
    [db, temporal] = await Promise.all([freshDatabase(), devTemporal()]);
    server = await lateServer();
    apiUrl = server.url;
    sim = await startSimulator({ port: 0, ipnUrl: `${apiUrl}/paypal/ipn` });
    const config = loadConfig({ DATABASE_URL: db.url, PAYPAL_MODE: 'simulator', PAYPAL_SIMULATOR_URL: sim.url, PUBLIC_URL: apiUrl, TEMPORAL_TASK_QUEUE: `store-checkout-${randomUUID()}` });
    server.serveApp(createApp({ config, pool: db.pool, temporal: temporal.client }));
    await db.pool.query("INSERT INTO packages (item_number, name, currency, price) VALUES ('KS-ZOE', 'Zoë’s Handbook', 'USD', 19.95)");
    browser = await launchChromium({ javaScriptEnabled: true });
  });

  after(async () => {
    await browser?.close();
    await sim?.close();
    await server.close();
    await temporal?.close();
    await db?.close();
  });

  test('pay by card: the IPN arrives in UTF-8 and the buyer returns with tx', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${apiUrl}/store`);
      await page.getByRole('button', { name: /Buy Zoë’s Handbook for 19\.95 USD/ }).click();
      await page.waitForURL(`${sim.url}/cgi-bin/webscr`);
      assert.equal((await page.locator('#total').textContent())?.trim(), '19.95 USD');
      await page.getByLabel('First name').fill('Zoë');
      await page.getByRole('button', { name: 'Pay with card' }).click();
      await page.waitForURL(/\/thanks\?tx=/);
      const back = new URL(page.url());
      const txnId = back.searchParams.get('tx') ?? '';
      assert.deepEqual([back.searchParams.get('st'), back.searchParams.get('amt'), back.searchParams.get('item_number')], ['Completed', '19.95', 'KS-ZOE']);
      await sim.idle();
      const { rows } = await db.pool.query<{ charset: string; outcome: string; fields: Record<string, string> }>("SELECT charset, outcome, fields FROM paypal_messages WHERE channel = 'ipn' AND txn_id = $1", [txnId]);
      assert.deepEqual(rows.map((r) => [r.charset, r.outcome, r.fields.item_name, r.fields.first_name, r.fields.item_number]), [['utf-8', 'routed', 'Zoë’s Handbook', 'Zoë', 'KS-ZOE']]);
    } finally {
      await page.close();
    }
  });

  test('cancel returns to the store and nothing is paid', async () => {
    const page = await browser.context.newPage();
    try {
      const before = sim.ledger.payments.size;
      await page.goto(`${apiUrl}/store`);
      await page.getByRole('button', { name: /Buy Zoë’s Handbook/ }).click();
      await page.getByRole('button', { name: /Cancel/ }).click();
      await page.waitForURL(/\/store\?cancelled=KS-ZOE/);
      assert.match((await page.getByRole('status').textContent()) ?? '', /Payment for KS-ZOE cancelled/);
      assert.equal(sim.ledger.payments.size, before);
    } finally {
      await page.close();
    }
  });

  test('pay by eCheck: Pending now, Completed after the chosen delay', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${apiUrl}/store`);
      await page.getByRole('button', { name: /Buy Zoë’s Handbook/ }).click();
      await page.getByLabel(/eCheck clears after/).fill('1');
      await page.getByRole('button', { name: 'Pay with eCheck' }).click();
      await page.waitForURL(/\/thanks\?tx=/);
      const back = new URL(page.url());
      assert.equal(back.searchParams.get('st'), 'Pending');
      const txnId = back.searchParams.get('tx');
      const deadline = Date.now() + 10_000;
      let statuses: string[] = [];
      while (Date.now() < deadline) {
        const { rows } = await db.pool.query<{ payment_status: string }>("SELECT payment_status FROM paypal_messages WHERE channel = 'ipn' AND txn_id = $1 AND outcome = 'routed' ORDER BY id", [txnId]);
        statuses = rows.map((r) => r.payment_status);
        if (statuses.length === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.deepEqual(statuses, ['Pending', 'Completed']);
    } finally {
      await page.close();
    }
  });
});
