// End to end: the PayPal simulator pays, Keyship's intake verifies and signals, the real invoice
// workflow runs on the Temporal dev server with its real activities (Postgres, SMTP). A good
// payment (and a cart) gets keys; verified-but-wrong payments stop at review with no key issued;
// a forged one starts nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../api/app';
import { loadConfig } from '../config/env';
import { createPdtClient } from '../paypal/pdt-client';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { createPdtStatusLookup } from '../paypal/status-lookup';
import { createWorker } from '../worker/create-worker';
import { queryInvoiceState } from '../domain/invoice-client';
import type { InvoiceStateView } from '../workflows/invoice-state';
import { devTemporal, freshDatabase, smtpCapture, workflowBundle, type DevTemporal, type SmtpCapture, type TestDatabase } from './harness';
import { lateServer, untilInvoice, type LateServer } from './fixtures/late-server';
import { receiverEmail, seedPackages, testActivities } from './invoice-fixtures';

describe('PayPal to keys, end to end', () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let smtp: SmtpCapture;
  let sim: Simulator;
  let server: LateServer;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `paypal-delivery-${randomUUID()}`;

  before(async () => {
    [db, temporal, smtp] = await Promise.all([freshDatabase(), devTemporal(), smtpCapture()]);
    await seedPackages(db.pool);
    server = await lateServer();
    const apiUrl = server.url;
    sim = await startSimulator({ port: 0, ipnUrl: `${apiUrl}/paypal/ipn`, webhookUrl: `${apiUrl}/paypal/webhook`, business: receiverEmail });
    const config = loadConfig({ DATABASE_URL: db.url, PAYPAL_MODE: 'simulator', PAYPAL_SIMULATOR_URL: sim.url, PUBLIC_URL: apiUrl, TEMPORAL_TASK_QUEUE: taskQueue, PAYPAL_RECEIVER_EMAIL: receiverEmail });
    server.serveApp(createApp({ config, pool: db.pool, temporal: temporal.client }));
    // The worker asks PayPal (here: the simulator) through the PDT status lookup.
    const lookup = createPdtStatusLookup({ pdt: createPdtClient({ url: `${sim.url}/cgi-bin/webscr`, identityToken: config.paypal.pdtToken ?? '' }), pool: db.pool });
    worker = await createWorker({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      activities: testActivities(db.pool, smtp.url, lookup),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await sim?.close();
    await server.close();
    await Promise.all([temporal?.close(), smtp?.close()]);
    await db?.close();
  });

  const until = (txnId: string, ok: (v: InvoiceStateView) => boolean, what: string, ms?: number) => untilInvoice(temporal.client, txnId, ok, what, ms);

  async function keyFiles(txnId: string): Promise<string[]> {
    const { rows } = await db.pool.query<{ name: string }>(
      'SELECT f.name FROM download_keys k JOIN invoices i ON i.id = k.invoice_id JOIN package_files f ON f.id = k.package_file_id WHERE i.txn_id = $1 ORDER BY f.name',
      [txnId],
    );
    return rows.map((r) => r.name);
  }

  const buyer = (label: string) => `${label}.${randomUUID().slice(0, 8)}@buyer.test`;

  test('a card payment delivers the package\'s keys; a cart delivers every item\'s files', async () => {
    const single = await sim.pay({ items: [{ itemNumber: 'GUIDE-1', itemName: 'Field Guide', amount: '19.95' }], payer: { email: buyer('single'), firstName: 'Zoë' } });
    const cart = await sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }, { itemNumber: 'NOREMIND', amount: '5.00' }], payer: { email: buyer('cart') } });
    await until(single.txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    await until(cart.txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    assert.deepEqual(await keyFiles(single.txnId), ['guide-extras.zip', 'guide.pdf']);
    assert.deepEqual(await keyFiles(cart.txnId), ['guide-extras.zip', 'guide.pdf', 'quiet.pdf']);
  });

  test('tampered amount, wrong currency, unknown item and wrong receiver stop at review: no key is issued', async () => {
    const cases = [
      { label: 'tampered', items: [{ itemNumber: 'GUIDE-1', amount: '0.01' }] },
      { label: 'currency', items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], currency: 'EUR' },
      { label: 'unknown', items: [{ itemNumber: 'NO-SUCH-ITEM', amount: '19.95' }] },
      { label: 'receiver', items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], business: 'someone-else@example.com' },
    ];
    for (const { label, ...input } of cases) {
      const email = buyer(label);
      const sent = await sim.pay({ ...input, payer: { email } });
      const state = await until(sent.txnId, (s) => s.status === 'needs_review', `needs_review (${label})`);
      assert.equal(state.status, 'needs_review', label);
      assert.deepEqual(await keyFiles(sent.txnId), [], label);
      assert.equal(smtp.messages.filter((m) => m.envelope.to.includes(email) && /\/d\//.test(m.parsed.text ?? '')).length, 0, `${label}: no download link mailed`);
    }
  });

  // PAYMENT.CAPTURE.COMPLETED names no item and no buyer; when it comes before the IPN, the
  // invoice workflow must wait for the IPN (or ask PDT) rather than judge the payment by it.
  test('a capture webhook that arrives before the IPN still ends with the keys delivered', async () => {
    const sent = await sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], payer: { email: buyer('webhook-first') }, webhookFirst: true });
    assert.deepEqual([sent.webhooks[0]?.httpStatus, sent.ipns[0]?.httpStatus], [200, 200]);
    await until(sent.txnId, (s) => s.status === 'fulfilled', 'fulfilled', 5_000);
    assert.deepEqual(await keyFiles(sent.txnId), ['guide-extras.zip', 'guide.pdf']);
  });

  test('a forged IPN starts no invoice at all', async () => {
    const forged = await sim.forge({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], payer: { email: buyer('forged') } });
    // sim.forge returns once Keyship answered, which it does after judging the message.
    assert.deepEqual(forged.ipns.map((i) => i.httpStatus), [200]);
    const { rows } = await db.pool.query('SELECT verification, outcome FROM paypal_messages WHERE txn_id = $1', [forged.txnId]);
    assert.deepEqual(rows, [{ verification: 'invalid', outcome: 'rejected' }]);
    assert.equal(await queryInvoiceState(temporal.client, forged.txnId), undefined);
    assert.deepEqual(await keyFiles(forged.txnId), []);
  });
});
