// End to end: the PayPal simulator pays, Keyship's intake verifies and signals, the real invoice
// workflow runs on the Temporal dev shop.server with its real activities (Postgres, SMTP). A good
// payment (and a cart) gets keys; verified-but-wrong payments stop at review with no key issued;
// a forged one starts nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { queryInvoiceState } from '../domain/invoice-client';
import { startShop, type Shop } from './fixtures/shop';
import { seedPackages } from './invoice-fixtures';

describe('PayPal to keys, end to end', () => {
  let shop: Shop;

  before(async () => {
    shop = await startShop({ name: 'paypal-delivery', seed: seedPackages });
  });

  after(async () => {
    await shop?.close();
  });

  async function keyFiles(txnId: string): Promise<string[]> {
    const { rows } = await shop.db.pool.query<{ name: string }>(
      'SELECT f.name FROM download_keys k JOIN invoices i ON i.id = k.invoice_id JOIN package_files f ON f.id = k.package_file_id WHERE i.txn_id = $1 ORDER BY f.name',
      [txnId],
    );
    return rows.map((r) => r.name);
  }

  test('a card payment delivers the package\'s keys; a cart delivers every item\'s files', async () => {
    const single = await shop.sim.pay({ items: [{ itemNumber: 'GUIDE-1', itemName: 'Field Guide', amount: '19.95' }], payer: { email: shop.buyer('single'), firstName: 'Zoë' } });
    const cart = await shop.sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }, { itemNumber: 'NOREMIND', amount: '5.00' }], payer: { email: shop.buyer('cart') } });
    await shop.until(single.txnId, (s) => s.status === 'fulfilled', 'fulfilled');
    await shop.until(cart.txnId, (s) => s.status === 'fulfilled', 'fulfilled');
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
      const email = shop.buyer(label);
      const sent = await shop.sim.pay({ ...input, payer: { email } });
      const state = await shop.until(sent.txnId, (s) => s.status === 'needs_review', `needs_review (${label})`);
      assert.equal(state.status, 'needs_review', label);
      assert.deepEqual(await keyFiles(sent.txnId), [], label);
      assert.equal(shop.smtp.messages.filter((m) => m.envelope.to.includes(email) && /\/d\//.test(m.parsed.text ?? '')).length, 0, `${label}: no download link mailed`);
    }
  });

  // PAYMENT.CAPTURE.COMPLETED names no item and no buyer; when it comes before the IPN, the
  // invoice workflow must wait for the IPN (or ask PDT) rather than judge the payment by it.
  test('a capture webhook that arrives before the IPN still ends with the keys delivered', async () => {
    const sent = await shop.sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], payer: { email: shop.buyer('webhook-first') }, webhookFirst: true });
    assert.deepEqual([sent.webhooks[0]?.httpStatus, sent.ipns[0]?.httpStatus], [200, 200]);
    await shop.until(sent.txnId, (s) => s.status === 'fulfilled', 'fulfilled', 5_000);
    assert.deepEqual(await keyFiles(sent.txnId), ['guide-extras.zip', 'guide.pdf']);
  });

  test('a forged IPN starts no invoice at all', async () => {
    const forged = await shop.sim.forge({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }], payer: { email: shop.buyer('forged') } });
    // shop.sim.forge returns once Keyship answered, which it does after judging the message.
    assert.deepEqual(forged.ipns.map((i) => i.httpStatus), [200]);
    const { rows } = await shop.db.pool.query('SELECT verification, outcome FROM paypal_messages WHERE txn_id = $1', [forged.txnId]);
    assert.deepEqual(rows, [{ verification: 'invalid', outcome: 'rejected' }]);
    assert.equal(await queryInvoiceState(shop.temporal.client, forged.txnId), undefined);
    assert.deepEqual(await keyFiles(forged.txnId), []);
  });
});
