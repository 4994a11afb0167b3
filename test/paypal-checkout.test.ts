// PayPal Checkout (Orders v2) end to end, for a seller with a REST app and webhooks only: the real
// api (store form, /checkout/orders, the return on /thanks, the admin), the PayPal simulator's
// Orders v2 (token, create, approve, capture, refunds, disputes, faults) and signed webhooks, the
// checkout and invoice workflows on the Temporal dev server with their real activities, Postgres,
// and the SMTP capture. Every flow the simulator drives delivers (or refuses) as the IPN path does.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../api/app';
import { loadConfig, type Config } from '../config/env';
import { checkoutByOrderId } from '../db/checkouts';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import { restClientFromConfig, type PayPalRestClient } from '../paypal/rest/client';
import { getCapture, getOrder } from '../paypal/rest/orders';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { statusLookupFromConfig } from '../paypal/status-lookup';
import { createWorker } from '../worker/create-worker';
import type { InvoiceStateView } from '../workflows/invoice-state';
import { CustomerEmail, InvoiceStatus } from '../workflows/search-attributes';
import { devTemporal, freshDatabase, smtpCapture, workflowBundle, type DevTemporal, type SmtpCapture, type TestDatabase } from './harness';
import { lateServer, untilInvoice } from './fixtures/late-server';
import { receiverEmail, seedPackages, testActivities } from './invoice-fixtures';
import { chromium, launchChromium, screenshotPath } from './fixtures/browser';
import { saveCheckoutHistory } from './fixtures/checkout-histories';
import { skipWithout } from './harness/programs';

const adminToken = 'checkout-test-admin-token-0123456789';

interface Stack {
  db: TestDatabase;
  temporal: DevTemporal;
  smtp: SmtpCapture;
  sim: Simulator;
  apiUrl: string;
  config: Config;
  rest: PayPalRestClient;
  /** What the worker's REST client logged (retries, token renewals). */
  restLog: string[];
  close(): Promise<void>;
}

/** The whole set-up a seller runs: api, worker, simulator; `ordersIpn` turns IPN on beside the webhooks. */
async function startStack(options: { ordersIpn?: boolean; env?: Record<string, string> } = {}): Promise<Stack> {
  const [db, temporal, smtp] = await Promise.all([freshDatabase(), devTemporal(), smtpCapture()]);
  await seedPackages(db.pool);
  await db.pool.query(`INSERT INTO packages (item_number, name, currency, price) VALUES ('PRICED', 'Priced Guide', 'USD', 12.00) ON CONFLICT DO NOTHING`);
  const taskQueue = `paypal-checkout-${randomUUID()}`;
  const server = await lateServer();
  const apiUrl = server.url;
  const sim = await startSimulator({
    port: 0,
    webhookUrl: `${apiUrl}/paypal/webhook`,
    ...(options.ordersIpn ? { ipnUrl: `${apiUrl}/paypal/ipn`, ordersIpn: true } : {}),
    business: receiverEmail,
  });
  const config = loadConfig({
    DATABASE_URL: db.url,
    PAYPAL_MODE: 'simulator',
    PAYPAL_SIMULATOR_URL: sim.url,
    PUBLIC_URL: apiUrl,
    TEMPORAL_TASK_QUEUE: taskQueue,
    PAYPAL_RECEIVER_EMAIL: receiverEmail,
    PAYPAL_CHECKOUT: 'orders',
    ADMIN_TOKEN: adminToken,
    ...options.env,
  });
  server.serveApp(createApp({ config, pool: db.pool, temporal: temporal.client }));
  const rest = restClientFromConfig(config.paypal, () => undefined)!;
  const restLog: string[] = [];
  const workerRest = restClientFromConfig(config.paypal, (line) => restLog.push(line));
  const worker: Worker = await createWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    taskQueue,
    activities: testActivities(db.pool, smtp.url, statusLookupFromConfig(config.paypal, db.pool, workerRest), undefined, { paypalRest: workerRest }),
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  return {
    db,
    temporal,
    smtp,
    sim,
    apiUrl,
    config,
    rest,
    restLog,
    async close() {
      worker.shutdown();
      await running;
      await sim.close();
      await server.close();
      await Promise.all([temporal.close(), smtp.close()]);
      await db.close();
    },
  };
}

/** The buyer's side and the checks every flow shares. */
function buyerOf(stack: () => Stack) {
  const s = () => stack();
  const buyer = (label: string) => `${label}.${randomUUID().slice(0, 8)}@buyer.test`;

  /** Presses the store's PayPal Checkout button (a plain form post): Keyship answers 303 to PayPal's approval page. */
  async function pressBuy(itemNumber = 'GUIDE-1'): Promise<string> {
    const answer = await fetch(`${s().apiUrl}/checkout/orders`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ item_number: itemNumber, quantity: '1' }) });
    assert.equal(answer.status, 303, await answer.text());
    const approve = new URL(answer.headers.get('location') ?? '');
    assert.equal(approve.origin, s().sim.url, 'the buyer is sent to PayPal');
    const orderId = approve.searchParams.get('token');
    assert.ok(orderId, 'the approval link names the order');
    return orderId;
  }

  /** Follows PayPal's redirect back to Keyship's return URL; answers the capture id the thank-you page moved to. */
  async function comeBack(redirect: string | undefined): Promise<{ status: number; location?: string; body: string }> {
    assert.ok(redirect, 'PayPal sends the buyer back');
    assert.ok(redirect.startsWith(`${s().apiUrl}/thanks?`), `returned to ${redirect}`);
    const answer = await fetch(redirect, { redirect: 'manual' });
    return { status: answer.status, location: answer.headers.get('location') ?? undefined, body: await answer.text() };
  }

  const until = (txnId: string, ok: (v: InvoiceStateView) => boolean, what: string, ms?: number) => untilInvoice(s().temporal.client, txnId, ok, what, ms);

  /** The checkout row once its capture is known (a webhook-driven capture, with no buyer to wait on). */
  async function capturedCheckout(orderId: string, ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const row = await checkoutByOrderId(s().db.pool, orderId);
      if (row?.captureId) return row.captureId;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    assert.fail(`order ${orderId} was never captured; row: ${JSON.stringify(await checkoutByOrderId(s().db.pool, orderId))}`);
  }

  const deliveries = (email: string) => s().smtp.messages.filter((m) => m.envelope.to.includes(email) && /\/d\//.test(m.parsed.text ?? ''));

  async function capturesAtPayPal(orderId: string): Promise<number> {
    const order = await getOrder(s().rest, orderId);
    return order.purchase_units?.[0]?.payments?.captures?.length ?? 0;
  }

  async function keyFiles(txnId: string): Promise<string[]> {
    const { rows } = await s().db.pool.query<{ name: string; revoked: boolean }>(
      'SELECT f.name FROM download_keys k JOIN invoices i ON i.id = k.invoice_id JOIN package_files f ON f.id = k.package_file_id WHERE i.txn_id = $1 AND k.revoked_at IS NULL ORDER BY f.name',
      [txnId],
    );
    return rows.map((r) => r.name);
  }

  /** Saves the checkout's history for the replay test (with KEYSHIP_SAVE_HISTORIES). */
  async function saveHistory(orderId: string, name: string): Promise<void> {
    const row = await checkoutByOrderId(s().db.pool, orderId);
    assert.ok(row);
    await saveCheckoutHistory(s().temporal.client, row.ref, name);
  }

  /** Waits a little for anything late (a resent webhook, a second capture) before counting. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1_000));

  return { buyer, pressBuy, comeBack, until, capturedCheckout, deliveries, capturesAtPayPal, keyFiles, settle, saveHistory };
}

describe('PayPal Checkout (Orders v2) with a REST app and webhooks only', () => {
  let stack: Stack;
  const b = buyerOf(() => stack);
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
  });

  test('the happy path: Buy, approve at PayPal, back to the thank-you page; one capture, one e-mail, keys, search attributes', async () => {
    const email = b.buyer('happy');
    const orderId = await b.pressBuy();
    const row = await checkoutByOrderId(stack.db.pool, orderId);
    assert.deepEqual(row?.lines, [{ itemNumber: 'GUIDE-1', name: 'Field Guide', quantity: 1, unitAmount: '19.95' }], 'priced from Postgres');
    const order = await getOrder(stack.rest, orderId);
    assert.equal(order.purchase_units?.[0]?.custom_id, row?.ref, 'the order is tied to the checkout');
    const approved = await stack.sim.approveOrder(orderId, { outcome: 'card', payer: { email, givenName: 'Zoë' } });
    const back = await b.comeBack(approved.redirect);
    assert.equal(back.status, 303, back.body);
    const captureId = /^\/thanks\/([A-Za-z0-9-]+)$/.exec(back.location ?? '')?.[1];
    assert.ok(captureId, `sent on to the invoice's page, not ${back.location}`);
    const state = await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    assert.equal(state.customerEmail, email);
    assert.deepEqual(await b.keyFiles(captureId), ['guide-extras.zip', 'guide.pdf']);
    const page = await (await fetch(`${stack.apiUrl}/thanks/${captureId}`)).text();
    assert.match(page, /guide\.pdf/);
    await b.settle();
    assert.equal(b.deliveries(email).length, 1, 'one delivery e-mail');
    assert.equal(await b.capturesAtPayPal(orderId), 1);
    const described = await stack.temporal.client.workflow.getHandle(invoiceWorkflowId(captureId)).describe();
    assert.equal(described.typedSearchAttributes.get(InvoiceStatus), 'fulfilled');
    assert.equal(described.typedSearchAttributes.get(CustomerEmail), email);
    const { rows } = await stack.db.pool.query<{ payment_status: string; outcome: string }>(
      `SELECT payment_status, outcome FROM paypal_messages WHERE channel = 'webhook' AND (txn_id = $1 OR txn_id = $2) ORDER BY id`,
      [orderId, captureId],
    );
    assert.deepEqual(rows.map((r) => r.payment_status).sort(), ['CHECKOUT.ORDER.APPROVED', 'PAYMENT.CAPTURE.COMPLETED'], 'both webhooks stored raw');
    assert.ok(rows.every((r) => r.outcome === 'routed'), JSON.stringify(rows));
    await b.saveHistory(orderId, 'return');
  });

  test('the buyer closes the tab after approving: CHECKOUT.ORDER.APPROVED alone captures and delivers', async () => {
    const email = b.buyer('closed-tab');
    const orderId = await b.pressBuy();
    const approved = await stack.sim.approveOrder(orderId, { outcome: 'card', closeTab: true, payer: { email } });
    assert.equal(approved.redirect, undefined, 'no return to Keyship');
    const captureId = await b.capturedCheckout(orderId);
    await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    await b.settle();
    assert.equal(b.deliveries(email).length, 1);
    await b.saveHistory(orderId, 'closed-tab');
  });

  test('the webhook beats the buyer back: the return finds the capture made, and nothing is captured twice', async () => {
    const email = b.buyer('webhook-first');
    const orderId = await b.pressBuy();
    const approved = await stack.sim.approveOrder(orderId, { outcome: 'card', payer: { email } });
    const captureId = await b.capturedCheckout(orderId);
    const back = await b.comeBack(approved.redirect);
    assert.equal(back.location, `/thanks/${captureId}`);
    await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    await b.settle();
    assert.equal(await b.capturesAtPayPal(orderId), 1);
    assert.equal(b.deliveries(email).length, 1);
  });

  test('a replayed webhook is stored and answered, and changes nothing', async () => {
    const email = b.buyer('replayed');
    const orderId = await b.pressBuy();
    await b.comeBack((await stack.sim.approveOrder(orderId, { outcome: 'card', payer: { email } })).redirect);
    const captureId = await b.capturedCheckout(orderId);
    await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    const { rows } = await stack.db.pool.query<{ raw_body: Buffer; headers: Record<string, string> }>(
      `SELECT raw_body, headers FROM paypal_messages WHERE channel = 'webhook' AND txn_id = $1 AND payment_status = 'PAYMENT.CAPTURE.COMPLETED'`,
      [captureId],
    );
    assert.equal(rows.length, 1);
    const again = await fetch(`${stack.apiUrl}/paypal/webhook`, { method: 'POST', headers: rows[0]!.headers, body: rows[0]!.raw_body });
    assert.equal(again.status, 200);
    const stored = await stack.db.pool.query<{ outcome: string }>('SELECT outcome FROM paypal_messages WHERE id = $1', [again.headers.get('x-keyship-message-id')]);
    assert.equal(stored.rows[0]?.outcome, 'duplicate');
    await b.settle();
    assert.equal(b.deliveries(email).length, 1);
  });

  test('two capture calls at once (a double click in the JS buttons): one capture, one answer', async () => {
    const email = b.buyer('double');
    const orderId = await b.pressBuy();
    await stack.sim.approveOrder(orderId, { outcome: 'card', closeTab: true, payer: { email } });
    const answers = await Promise.all(
      [1, 2].map(async () => {
        const answer = await fetch(`${stack.apiUrl}/checkout/orders/${orderId}/capture`, { method: 'POST' });
        assert.equal(answer.status, 200);
        return (await answer.json()) as { status: string; captureId: string; thanksUrl: string };
      }),
    );
    assert.equal(answers[0]!.captureId, answers[1]!.captureId);
    assert.equal(answers[0]!.thanksUrl, `/thanks/${answers[0]!.captureId}`);
    await b.until(answers[0]!.captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    await b.settle();
    assert.equal(await b.capturesAtPayPal(orderId), 1);
    assert.equal(b.deliveries(email).length, 1);
    await b.saveHistory(orderId, 'double-capture');
  });

  test('the JSON endpoints the JS SDK buttons call: create answers the order id, unknown items and orders are refused', async () => {
    const created = await fetch(`${stack.apiUrl}/checkout/orders`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://seller.example' }, body: JSON.stringify({ itemNumber: 'GUIDE-1', quantity: 2 }) });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('access-control-allow-origin'), '*', "callable from the seller's own site");
    const order = (await created.json()) as { id: string; approveUrl: string };
    assert.equal((await getOrder(stack.rest, order.id)).purchase_units?.[0]?.amount?.value, '39.90', 'amount from Postgres × quantity');
    const unknown = await fetch(`${stack.apiUrl}/checkout/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ itemNumber: 'NO-SUCH' }) });
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { error: string }).error, /not for sale/);
    const noOrder = await fetch(`${stack.apiUrl}/checkout/orders/5O190127TN364715T/capture`, { method: 'POST' });
    assert.equal(noOrder.status, 404);
    const early = await fetch(`${stack.apiUrl}/checkout/orders/${order.id}/capture`, { method: 'POST' });
    assert.equal(((await early.json()) as { status: string }).status, 'created', 'a capture before approval captures nothing');
    assert.equal(await b.capturesAtPayPal(order.id), 0);
  });

  test('a capture that does not match the package (its price changed meanwhile) stops at review; no key', async () => {
    const email = b.buyer('mismatch');
    const orderId = await b.pressBuy('PRICED');
    await stack.db.pool.query(`UPDATE packages SET price = 15.00 WHERE item_number = 'PRICED'`);
    try {
      await b.comeBack((await stack.sim.approveOrder(orderId, { outcome: 'card', payer: { email } })).redirect);
      const captureId = await b.capturedCheckout(orderId);
      await b.until(captureId, (v) => v.status === 'needs_review', 'needs_review');
      assert.deepEqual(await b.keyFiles(captureId), []);
      assert.equal(b.deliveries(email).length, 0);
    } finally {
      await stack.db.pool.query(`UPDATE packages SET price = 12.00 WHERE item_number = 'PRICED'`);
    }
  });

  test('a declined card: the buyer is told on the page and by e-mail; nothing delivered', async () => {
    const email = b.buyer('declined');
    const orderId = await b.pressBuy();
    const back = await b.comeBack((await stack.sim.approveOrder(orderId, { outcome: 'declined', payer: { email } })).redirect);
    const page = back.status === 303 ? await (await fetch(`${stack.apiUrl}${back.location}`)).text() : back.body;
    assert.match(page, /declined|not go through|failed/i);
    const row = await checkoutByOrderId(stack.db.pool, orderId);
    assert.equal(row?.status, 'declined');
    assert.ok(row?.captureId, 'PayPal answered a DECLINED capture');
    await b.until(row.captureId, (v) => v.status === 'failed', 'failed');
    const told = await stack.smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(email));
    assert.match(told[0]!.parsed.subject ?? '', /did not go through/);
    assert.equal(b.deliveries(email).length, 0);
    await b.saveHistory(orderId, 'declined');
  });

  test('an eCheck: pending on return, delivered when PayPal clears it', async () => {
    const email = b.buyer('echeck');
    const orderId = await b.pressBuy();
    const back = await b.comeBack((await stack.sim.approveOrder(orderId, { outcome: 'echeck', payer: { email } })).redirect);
    const captureId = /^\/thanks\/(.+)$/.exec(back.location ?? '')?.[1];
    assert.ok(captureId, back.body);
    await b.until(captureId, (v) => v.status === 'awaiting_payment', 'awaiting_payment');
    assert.equal(b.deliveries(email).length, 0);
    await stack.sim.clear(captureId);
    await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    await b.saveHistory(orderId, 'echeck');
  });

  test('cancel at PayPal: back to the store, nothing charged, no invoice', async () => {
    const orderId = await b.pressBuy();
    const cancelled = await stack.sim.cancelOrder(orderId);
    assert.ok(cancelled.redirect?.startsWith(`${stack.apiUrl}/checkout/cancelled?`), cancelled.redirect);
    const answer = await fetch(cancelled.redirect!, { redirect: 'manual' });
    assert.equal(answer.status, 303);
    assert.match(answer.headers.get('location') ?? '', /^\/store\?cancelled=/);
    assert.equal(await b.capturesAtPayPal(orderId), 0);
    const { rows } = await stack.db.pool.query('SELECT 1 FROM invoices i JOIN checkouts c ON c.capture_id = i.txn_id WHERE c.order_id = $1', [orderId]);
    assert.equal(rows.length, 0);
  });

  test("the token expires mid-flow: Keyship renews it once and the purchase goes through", async () => {
    const email = b.buyer('token');
    const orderId = await b.pressBuy();
    stack.sim.expireTokens();
    const back = await b.comeBack((await stack.sim.approveOrder(orderId, { outcome: 'card', payer: { email } })).redirect);
    assert.equal(back.status, 303, back.body);
    const captureId = await b.capturedCheckout(orderId);
    await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    assert.ok(stack.restLog.some((line) => line.includes(`/v2/checkout/orders/${orderId}/capture answered 401`)), `the capture met the expired token: ${stack.restLog.join(' | ')}`);
    await b.saveHistory(orderId, 'token-expired');
  });

  test('PayPal answers the capture 500 after capturing, then 201 to the retry with the same PayPal-Request-Id: one capture', async () => {
    const email = b.buyer('flaky');
    const orderId = await b.pressBuy();
    stack.sim.failNext({ method: 'POST', pathPattern: '/capture$', status: 500, after: true });
    const back = await b.comeBack((await stack.sim.approveOrder(orderId, { outcome: 'card', closeTab: true, payer: { email } })).redirect ?? `${stack.apiUrl}/thanks?token=${orderId}`);
    assert.equal(back.status, 303, back.body);
    const captureId = await b.capturedCheckout(orderId);
    await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    assert.ok(
      stack.restLog.some((line) => line.includes(`/v2/checkout/orders/${orderId}/capture`) && / 500 .*attempt 1 of 3/.test(line)),
      `the first capture answer was PayPal's 500: ${stack.restLog.join(' | ')}`,
    );
    await b.settle();
    assert.equal(await b.capturesAtPayPal(orderId), 1);
    assert.equal(b.deliveries(email).length, 1);
  });

  test('refunds through PayPal from the admin: a confirmation step, idempotent, partial then the rest', async () => {
    const email = b.buyer('refund');
    const orderId = await b.pressBuy();
    await b.comeBack((await stack.sim.approveOrder(orderId, { outcome: 'card', payer: { email } })).redirect);
    const captureId = await b.capturedCheckout(orderId);
    await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');

    const login = await fetch(`${stack.apiUrl}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { Origin: stack.apiUrl, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: adminToken, next: '/admin' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const invoicePage = await (await fetch(`${stack.apiUrl}/admin/invoices/${captureId}`, { headers: { Cookie: cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(invoicePage)?.[1];
    assert.ok(csrf);
    const post = (fields: Record<string, string>) =>
      fetch(`${stack.apiUrl}/admin/invoices/${captureId}/actions/refund`, {
        method: 'POST',
        headers: { Cookie: cookie, Origin: stack.apiUrl, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, ...fields }),
      });
    const asked = await post({ amount: '5.00', reason: 'goodwill' });
    assert.equal(asked.status, 200);
    const confirm = await asked.text();
    assert.match(confirm, /Refund through PayPal/);
    assert.match(confirm, /5\.00 USD/);
    assert.equal((await getCapture(stack.rest, captureId)).status, 'COMPLETED', 'nothing refunded before the confirmation');
    const requestId = /name="requestId" value="([^"]+)"/.exec(confirm)?.[1];
    assert.ok(requestId);
    const confirmed = { amount: '5.00', reason: 'goodwill', requestId, confirm: 'yes' };
    const [first, second] = [await post(confirmed), await post(confirmed)];
    assert.equal(first.status, 200, await first.text());
    await second.text();
    const capture = await getCapture(stack.rest, captureId);
    assert.equal(capture.status, 'PARTIALLY_REFUNDED', 'one 5.00 refund, though confirmed twice');
    const partly = await b.until(captureId, (v) => v.refunded === '5.00', 'refunded 5.00');
    assert.equal(partly.status, 'fulfilled', 'a partial refund keeps access (the package default)');
    assert.deepEqual(await b.keyFiles(captureId), ['guide-extras.zip', 'guide.pdf']);
    const tooMuch = await fetch(`${stack.apiUrl}/api/admin/invoices/${captureId}/actions/refund`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '15.00' }),
    });
    assert.equal(tooMuch.status, 409);
    assert.match(((await tooMuch.json()) as { error: string }).error, /more than the 14\.95 left/);

    // The rest, from PayPal's side (the seller refunds in PayPal): the webhook revokes access.
    await stack.sim.refund(captureId);
    await b.until(captureId, (v) => v.status === 'refunded', 'refunded');
    assert.deepEqual(await b.keyFiles(captureId), []);
    assert.equal((await getCapture(stack.rest, captureId)).status, 'REFUNDED');
  });

  test('a dispute opened at PayPal suspends downloads and shows in the admin; won by the seller, access is back', async () => {
    const email = b.buyer('dispute');
    const orderId = await b.pressBuy();
    await b.comeBack((await stack.sim.approveOrder(orderId, { outcome: 'card', payer: { email } })).redirect);
    const captureId = await b.capturedCheckout(orderId);
    await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    const opened = await stack.sim.openDispute(captureId, { reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED' });
    assert.deepEqual(opened.report.webhooks.map((w) => [w.type, w.httpStatus]), [['CUSTOMER.DISPUTE.CREATED', 200]]);
    const disputed = await b.until(captureId, (v) => v.status === 'disputed', 'disputed');
    assert.equal(disputed.dispute?.caseId, opened.dispute.id);
    const detail = await fetch(`${stack.apiUrl}/api/admin/invoices/${captureId}`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.match(await detail.text(), new RegExp(opened.dispute.id));
    await stack.sim.resolveDispute(opened.dispute.id, { outcome: 'seller' });
    await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled again');
    assert.deepEqual(await b.keyFiles(captureId), ['guide-extras.zip', 'guide.pdf']);
  });

  test("in a browser: the store's PayPal buttons (JS SDK via @paypal/paypal-js) create, approve in PayPal's popup, capture, and show the downloads", { skip: skipWithout(chromium) }, async () => {
    const browser = await launchChromium({ javaScriptEnabled: true });
    try {
      const page = await browser.context.newPage();
      await page.goto(`${stack.apiUrl}/store`);
      const section = page.locator('section', { hasText: 'Field Guide' });
      const sdkButton = section.getByRole('button', { name: 'PayPal (simulator)' });
      await sdkButton.waitFor({ timeout: 10_000 });
      assert.equal(await section.locator('form[data-keyship-checkout]').isHidden(), true, 'the form gives way to the buttons');
      await page.screenshot({ path: screenshotPath('checkout-store-buttons'), fullPage: true });
      const [popup] = await Promise.all([page.waitForEvent('popup', { timeout: 10_000 }), sdkButton.click()]);
      await popup.waitForURL(/\/checkoutnow\?token=/, { timeout: 10_000 });
      await popup.getByLabel('E-mail').fill(b.buyer('browser'));
      await popup.screenshot({ path: screenshotPath('checkout-approval-popup') });
      await popup.getByRole('button', { name: 'Pay', exact: true }).click();
      await page.waitForURL(/\/thanks\/[A-Za-z0-9-]+$/, { timeout: 20_000 });
      const captureId = new URL(page.url()).pathname.split('/').pop()!;
      await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
      await page.reload();
      await page.getByText('guide.pdf').first().waitFor({ timeout: 10_000 });
      await page.screenshot({ path: screenshotPath('checkout-thanks'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});

describe('PayPal Checkout with IPN on as well: every channel reaches one invoice, delivered once', () => {
  let stack: Stack;
  const b = buyerOf(() => stack);
  before(async () => {
    stack = await startStack({ ordersIpn: true });
  });
  after(async () => {
    await stack?.close();
  });

  test('capture answer, capture webhook and IPN about one payment: one invoice, one e-mail', async () => {
    const email = b.buyer('both');
    const orderId = await b.pressBuy();
    const back = await b.comeBack((await stack.sim.approveOrder(orderId, { outcome: 'card', payer: { email } })).redirect);
    const captureId = /^\/thanks\/(.+)$/.exec(back.location ?? '')?.[1];
    assert.ok(captureId, back.body);
    await b.until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    await stack.sim.idle();
    await b.settle();
    const { rows } = await stack.db.pool.query<{ channel: string }>(`SELECT DISTINCT channel FROM paypal_messages WHERE txn_id = $1 ORDER BY channel`, [captureId]);
    assert.deepEqual(rows.map((r) => r.channel), ['ipn', 'rest', 'webhook']);
    const invoices = await stack.db.pool.query('SELECT id FROM invoices WHERE txn_id = $1', [captureId]);
    assert.equal(invoices.rows.length, 1);
    assert.equal(b.deliveries(email).length, 1);
  });
});
