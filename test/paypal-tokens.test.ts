// PayPal rate-limits OAuth token requests and asks integrators to cache the token until it
// expires. Over real HTTP against the simulator: a webhook verified online and the admin's "ask
// PayPal" (pages and JSON) in one api process share one token, renewed only once it stops working.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startShop, type Shop } from './fixtures/shop';
import { seedPackages } from './invoice-fixtures';

describe('one PayPal OAuth token per api process', () => {
  let shop: Shop;

  before(async () => {
    shop = await startShop({ name: 'paypal-tokens', seed: seedPackages, env: { PAYPAL_WEBHOOK_VERIFY: 'online' } });
  });

  after(async () => {
    await shop?.close();
  });

  test('a webhook verified online and three admin views of PayPal\'s facts cost one token request; an expired token is renewed once', async () => {
    assert.equal(shop.sim.tokenRequests(), 0, 'nothing asked for a token before the purchase');
    const sent = await shop.sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], payer: { email: shop.buyer('tokens') } });
    assert.deepEqual(sent.webhooks.map((w) => w.httpStatus), [200]);
    const [webhook] = (await shop.db.pool.query<{ verification: string }>("SELECT verification FROM paypal_messages WHERE channel = 'webhook' AND txn_id = $1", [sent.txnId])).rows;
    assert.equal(webhook?.verification, 'verified', 'the webhook was verified by PayPal\'s verify-webhook-signature');
    const state = await shop.until(sent.txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    assert.equal(shop.sim.tokenRequests(), 1, 'the online verification asked for the token');

    const { cookie } = await shop.adminSession();
    for (let view = 1; view <= 2; view++) {
      const page = await fetch(`${shop.url}/admin/invoices/${state.invoiceNumber}/paypal`, { headers: { Cookie: cookie }, signal: AbortSignal.timeout(30_000) });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /asked by REST just now/, `page view ${view} asked PayPal's REST API`);
      assert.match(html, /<td>19\.95 USD<\/td>\s*<td>19\.95 USD<\/td>/, `page view ${view} shows PayPal's amount beside the invoice's`);
    }
    const asked = await shop.admin('GET', `/api/admin/invoices/${state.invoiceNumber}/paypal`);
    const paypal = asked.body.paypal as { via: string; facts?: { status: string; txnId: string } };
    assert.deepEqual([asked.status, paypal.via, paypal.facts?.status, paypal.facts?.txnId], [200, 'rest', 'Completed', sent.txnId]);
    assert.equal(shop.sim.tokenRequests(), 1, 'the webhook and three views of PayPal\'s facts shared one token');

    // PayPal revokes the token early: the next question renews it once, and the one after reuses it.
    shop.sim.expireTokens();
    for (let read = 1; read <= 2; read++) {
      const again = await shop.admin('GET', `/api/admin/invoices/${state.invoiceNumber}/paypal`);
      const answer = again.body.paypal as { via: string; facts?: unknown };
      // By REST, not by the PDT fallback a failed REST question would quietly take.
      assert.deepEqual([answer.via, answer.facts !== undefined], ['rest', true], `read ${read} after the expiry got PayPal's facts by REST`);
    }
    assert.equal(shop.sim.tokenRequests(), 2, 'one renewal after the token stopped working');
  });
});
