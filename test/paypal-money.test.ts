// Money after the sale, end to end: the PayPal simulator sends partial refunds, chargebacks and
// their cancellation by IPN (and webhook); Keyship's intake verifies and signals, the real invoice
// workflow applies the package's policy; the admin's JSON API shows the money and re-checks a
// message that was rejected while the configuration was wrong.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createApp } from '../api/app';
import { loadConfig } from '../config/env';
import { queryInvoiceState } from '../domain/invoice-client';
import { startShop, type Shop } from './fixtures/shop';
import { seedPackages } from './invoice-fixtures';

describe('refunds, disputes and re-checks through the simulator and the admin', () => {
  let shop: Shop;
  // The api again with more configuration (served in place of the shop's while a test needs it).
  const appWith = (extra: Record<string, string> = {}) => createApp({ config: loadConfig({ ...shop.env, ...extra }), pool: shop.db.pool, temporal: shop.temporal.client });

  before(async () => {
    shop = await startShop({ name: 'paypal-money', seed: seedPackages });
  });

  after(async () => {
    await shop?.close();
  });

  const admin = (method: 'GET' | 'POST', path: string) => shop.admin(method, path, method === 'POST' ? {} : undefined, 30_000);
  const deliveries = (email: string) => shop.smtp.messages.filter((m) => m.envelope.to.includes(email) && /^Your download:/.test(m.parsed.subject ?? ''));
  const revokedReasons = async (txnId: string) =>
    (await shop.db.pool.query<{ r: string | null }>('SELECT k.revoked_reason AS r FROM download_keys k JOIN invoices i ON i.id = k.invoice_id WHERE i.txn_id = $1', [txnId])).rows.map((row) => row.r);

  async function paid(label: string) {
    const email = shop.buyer(label);
    const sent = await shop.sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], payer: { email } });
    const state = await shop.until(sent.txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    return { txnId: sent.txnId, email, state };
  }

  test('a partial refund (IPN and webhook) keeps access and is counted once; the refund of the rest revokes', async () => {
    const { txnId, state } = await paid('partial');
    const first = await shop.sim.refund(txnId, { amount: '2.00' });
    assert.deepEqual([...first.ipns, ...first.webhooks].map((d) => d.httpStatus), [200, 200]);
    const counted = /refund \S+ was already counted \(PayPal reports a refund by IPN and by webhook\)/;
    const partial = await shop.until(txnId, (s) => s.refunded === '2.00' && s.events.some((e) => counted.test(e.detail)), 'refunded 2.00, the same refund by webhook not counted again');
    assert.equal(partial.status, 'fulfilled');
    assert.deepEqual(await revokedReasons(txnId), [null, null]);
    const detail = await admin('GET', `/api/admin/invoices/${state.invoiceNumber}`);
    const invoice = detail.body.invoice as { refundedAmount: string; disputedAmount: string };
    assert.deepEqual([invoice.refundedAmount, invoice.disputedAmount], ['2.00', '0.00']);
    const moved = (detail.body.moneyEvents as { status: string; gross: string; channel: string }[]).map((e) => `${e.channel} ${e.status} ${e.gross}`);
    assert.deepEqual(moved, ['ipn Completed 19.95', 'webhook Completed 19.95', 'ipn Refunded -2.00', 'webhook Refunded -2.00']);

    await shop.sim.refund(txnId, { amount: '17.95' });
    const whole = await shop.until(txnId, (s) => s.status === 'refunded', 'refunded');
    assert.equal(whole.refunded, '19.95');
    assert.deepEqual(await revokedReasons(txnId), ['refunded', 'refunded']);
  });

  test('an IPN chargeback suspends downloads and shows as an open dispute; its cancellation reinstates', async () => {
    const { txnId, email, state } = await paid('chargeback');
    const [delivery] = await shop.smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(email) && /^Your download:/.test(m.parsed.subject ?? ''));
    const key = /\/d\/([A-Za-z0-9_-]{43})/.exec(delivery!.parsed.text ?? '')?.[1];
    assert.ok(key, 'the delivery e-mail carries a download link');
    await shop.sim.reverse(txnId, { reason: 'chargeback' });
    const open = await shop.until(txnId, (s) => s.status === 'disputed', 'disputed');
    assert.equal(open.dispute?.state, 'open');
    assert.deepEqual(await revokedReasons(txnId), [null, null], 'suspended, not revoked');
    // The download link says what the ticket, the access link and the thank-you page say: paused, not unpaid.
    const suspended = await fetch(`${shop.url}/d/${key}`);
    assert.equal(suspended.status, 403);
    const page = await suspended.text();
    assert.match(page, /This download is paused[\s\S]*A dispute about this payment is open at PayPal, so this order is paused while PayPal looks at it; the same links work again/);
    assert.doesNotMatch(page, /not available yet|not cleared/);
    const refusals = await shop.db.pool.query<{ refused: string }>('SELECT e.refused FROM download_events e JOIN invoices i ON i.id = e.invoice_id WHERE i.txn_id = $1 AND e.refused IS NOT NULL', [txnId]);
    assert.deepEqual(refusals.rows.map((r) => r.refused), ['suspended']);
    const thanks = await fetch(`${shop.url}/thanks/${txnId}`);
    assert.match(await thanks.text(), /This purchase is paused[\s\S]*A dispute about this payment is open at PayPal, so this order is paused while PayPal looks at it/);
    const attention = await admin('GET', '/api/admin/attention');
    assert.ok((attention.body.disputes as { number: string }[]).some((i) => i.number === state.invoiceNumber), 'listed among open disputes');
    await shop.sim.cancelReversal(txnId);
    const back = await shop.until(txnId, (s) => s.status === 'fulfilled', 'fulfilled again');
    assert.equal(back.dispute?.state, 'seller');
    const reinstated = await fetch(`${shop.url}/d/${key}`);
    assert.notEqual(reinstated.status, 403, 'the same link is no longer refused');
    await reinstated.body?.cancel();
    const after = await admin('GET', '/api/admin/attention');
    assert.ok(!(after.body.disputes as { number: string }[]).some((i) => i.number === state.invoiceNumber), 'no longer an open dispute');
  });

  test('a message rejected while the verify URL was wrong is re-checked once the configuration is fixed: routed once, one delivery', async () => {
    // The live simulator's payment posted back to its sandbox endpoint: PayPal answers INVALID.
    shop.server.serveApp(appWith({ PAYPAL_IPN_VERIFY_URL: `${shop.sim.url}/sandbox/cgi-bin/webscr` }));
    const email = shop.buyer('recheck');
    let sent;
    try {
      sent = await shop.sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], payer: { email }, webhooks: false });
    } finally {
      shop.server.serveApp(appWith());
    }
    const [row] = (await shop.db.pool.query<{ id: number; verification: string; outcome: string }>("SELECT id, verification, outcome FROM paypal_messages WHERE channel = 'ipn' AND txn_id = $1", [sent.txnId])).rows;
    assert.deepEqual([row?.verification, row?.outcome], ['invalid', 'rejected']);
    assert.equal(await queryInvoiceState(shop.temporal.client, sent.txnId), undefined, 'nothing was routed');
    const listed = await admin('GET', '/api/admin/attention');
    assert.ok((listed.body.unverifiedMessages as { id: number }[]).some((m) => m.id === row!.id), 'offered for a re-check');

    const [a, b] = await Promise.all([admin('POST', `/api/admin/messages/${row!.id}/recheck`), admin('POST', `/api/admin/messages/${row!.id}/recheck`)]);
    const answers = [a, b].map((r) => r.body.outcome).sort();
    assert.deepEqual(answers, ['routed', 'unchanged'], `two re-checks at once route once: ${JSON.stringify([a.body, b.body])}`);
    await shop.until(sent.txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    await shop.smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(email) && /^Your download:/.test(m.parsed.subject ?? ''));
    const again = await admin('POST', `/api/admin/messages/${row!.id}/recheck`);
    assert.equal(again.body.outcome, 'unchanged');
    assert.match(String(again.body.message), /was already routed to invoice-.*; nothing changed/);
    const [stored] = (await shop.db.pool.query<{ verification: string; outcome: string; outcome_detail: string }>('SELECT verification, outcome, outcome_detail FROM paypal_messages WHERE id = $1', [row!.id])).rows;
    assert.deepEqual([stored?.verification, stored?.outcome], ['verified', 'routed']);
    assert.match(stored?.outcome_detail ?? '', /^re-checked by admin \(api\)/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(deliveries(email).length, 1, 'exactly one delivery e-mail');
  });

  test('a forged message re-checked is rejected again and routes nothing; an unknown message is 404', async () => {
    const forged = await shop.sim.forge({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], payer: { email: shop.buyer('forged') } });
    const [row] = (await shop.db.pool.query<{ id: number }>('SELECT id FROM paypal_messages WHERE txn_id = $1', [forged.txnId])).rows;
    const answer = await admin('POST', `/api/admin/messages/${row!.id}/recheck`);
    assert.equal(answer.body.outcome, 'rejected');
    assert.match(String(answer.body.message), /is rejected again \(PayPal answered INVALID.*\); it was not routed/);
    const [stored] = (await shop.db.pool.query<{ verification: string; outcome: string }>('SELECT verification, outcome FROM paypal_messages WHERE id = $1', [row!.id])).rows;
    assert.deepEqual([stored?.verification, stored?.outcome], ['invalid', 'rejected']);
    assert.equal(await queryInvoiceState(shop.temporal.client, forged.txnId), undefined);
    const missing = await admin('POST', '/api/admin/messages/999999999/recheck');
    assert.equal(missing.status, 404);
    assert.match(String(missing.body.error), /There is no PayPal message #999999999/);
  });

  test("ask PayPal shows PayPal's current facts beside the invoice's", async () => {
    const { state } = await paid('ask');
    const asked = await admin('GET', `/api/admin/invoices/${state.invoiceNumber}/paypal`);
    assert.equal(asked.status, 200);
    const paypal = asked.body.paypal as { via: string; facts?: { status: string; gross: string; txnId: string } };
    assert.equal(paypal.via, 'rest', 'a REST app, the simulator one, is asked first');
    assert.deepEqual([paypal.facts?.status, paypal.facts?.gross, paypal.facts?.txnId], ['Completed', '19.95', state.txnId]);
  });
});
