// PayPal Checkout's waits, on the time-skipping server: an order nobody approves lapses after
// PayPal's approval window and leaves no invoice; a pending capture (an eCheck) is looked up at
// PayPal while it is silent and delivered when it clears days later. The real api, simulator,
// workflows and activities, as in paypal-checkout.test.ts; hours pass in milliseconds.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../api/app';
import { loadConfig } from '../config/env';
import { checkoutByOrderId } from '../db/checkouts';
import { queryInvoiceState } from '../domain/invoice-client';
import { checkoutWorkflowId } from '../domain/invoice-ids';
import { restClientFromConfig } from '../paypal/rest/client';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { statusLookupFromConfig } from '../paypal/status-lookup';
import { createWorker } from '../worker/create-worker';
import type { checkout } from '../workflows/checkout';
import type { InvoiceStateView } from '../workflows/invoice-state';
import { freshDatabase, smtpCapture, timeSkipping, workflowBundle, type SmtpCapture, type TestDatabase } from './harness';
import { lateServer, untilInvoice, type LateServer } from './fixtures/late-server';
import { receiverEmail, seedPackages, testActivities } from './invoice-fixtures';
import { saveCheckoutHistory } from './fixtures/checkout-histories';

describe('PayPal Checkout over days (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let sim: Simulator;
  let server: LateServer;
  let worker: Worker;
  let running: Promise<void>;
  let apiUrl: string;

  before(async () => {
    [env, db, smtp] = await Promise.all([timeSkipping(), freshDatabase(), smtpCapture()]);
    await seedPackages(db.pool);
    const taskQueue = `checkout-time-${randomUUID()}`;
    server = await lateServer();
    apiUrl = server.url;
    sim = await startSimulator({ port: 0, webhookUrl: `${apiUrl}/paypal/webhook`, business: receiverEmail });
    // PayPal Checkout only, no PDT token: a REST app and webhooks are all this seller has.
    const config = loadConfig({ PAYPAL_MODE: 'simulator', PAYPAL_SIMULATOR_URL: sim.url, PUBLIC_URL: apiUrl, TEMPORAL_TASK_QUEUE: taskQueue, PAYPAL_RECEIVER_EMAIL: receiverEmail, PAYPAL_CHECKOUT: 'orders' });
    server.serveApp(createApp({ config, pool: db.pool, temporal: env.client }));
    const rest = restClientFromConfig(config.paypal, () => undefined);
    worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: testActivities(db.pool, smtp.url, statusLookupFromConfig({ ...config.paypal, pdtToken: undefined }, db.pool, rest), undefined, { paypalRest: rest }),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await sim?.close();
    await server.close();
    await Promise.all([env?.teardown(), db?.close(), smtp?.close()]);
  });

  async function pressBuy(): Promise<string> {
    const answer = await fetch(`${apiUrl}/checkout/orders`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ item_number: 'GUIDE-1' }) });
    assert.equal(answer.status, 303, await answer.text());
    const orderId = new URL(answer.headers.get('location') ?? '').searchParams.get('token');
    assert.ok(orderId);
    return orderId;
  }

  const until = (txnId: string, ok: (v: InvoiceStateView) => boolean, what: string, ms?: number) => untilInvoice(env.client, txnId, ok, what, ms);

  test('an order never approved ends quietly after PayPal\'s approval window: no invoice, no e-mail', async () => {
    const orderId = await pressBuy();
    const row = await checkoutByOrderId(db.pool, orderId);
    assert.ok(row);
    const handle = env.client.workflow.getHandle<typeof checkout>(checkoutWorkflowId(row.ref));
    await env.sleep('2 hours');
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'still waiting inside the window');
    await env.sleep('61 minutes');
    const result = await handle.result();
    assert.equal(result.status, 'abandoned');
    assert.equal((await checkoutByOrderId(db.pool, orderId))?.status, 'abandoned');
    const invoices = await db.pool.query('SELECT count(*)::int AS n FROM invoices');
    assert.equal(invoices.rows[0].n, 0);
    assert.equal(smtp.messages.length, 0);
    await saveCheckoutHistory(env.client, row.ref, 'abandoned');
  });

  test('a pending capture is looked up while silent and delivered when it clears three days later', async () => {
    const email = `echeck.${randomUUID().slice(0, 8)}@buyer.test`;
    const orderId = await pressBuy();
    const approved = await sim.approveOrder(orderId, { outcome: 'echeck', payer: { email } });
    const back = await fetch(approved.redirect!, { redirect: 'manual' });
    const captureId = /^\/thanks\/(.+)$/.exec(back.headers.get('location') ?? '')?.[1];
    assert.ok(captureId, await back.text());
    await until(captureId, (v) => v.status === 'awaiting_payment', 'awaiting_payment');
    await env.sleep('3 days');
    const polls = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM paypal_messages WHERE channel = 'rest' AND txn_id = $1 AND payment_status = 'CAPTURE.PENDING'`, [captureId]);
    assert.ok(polls.rows[0]!.n >= 2, `asked PayPal's REST API while silent (${polls.rows[0]!.n} answers stored)`);
    assert.equal((await queryInvoiceState(env.client, captureId))?.status, 'awaiting_payment');
    await sim.clear(captureId);
    await until(captureId, (v) => v.status === 'fulfilled', 'fulfilled');
    const delivered = await smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(email) && /\/d\//.test(m.parsed.text ?? ''));
    assert.equal(delivered.length, 1);
  });
});
