// The PayPal Buy Now button a seller pastes into their site (paypal/button-form.ts): the form
// carries every field PayPal needs, HTML-escaped. No servers needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buyNowButtonHtml } from '../../paypal/button-form';

test('the Buy Now button form carries what PayPal needs, escaped', async () => {
  const form = await buyNowButtonHtml(
    { itemNumber: 'KS-1', name: 'Zoë’s "Handbook" <2nd>', price: '19.95', currency: 'EUR' },
    { mode: 'live', simulatorUrl: 'http://127.0.0.1:8090', business: 'seller@example.com', publicUrl: 'https://shop.example.com' },
  );
  assert.match(form, /<form action="https:\/\/www\.paypal\.com\/cgi-bin\/webscr" method="post"/);
  for (const [name, value] of [
    ['cmd', '_xclick'],
    ['business', 'seller@example.com'],
    ['item_number', 'KS-1'],
    ['item_name', 'Zoë’s &quot;Handbook&quot; &lt;2nd&gt;'],
    ['amount', '19.95'],
    ['currency_code', 'EUR'],
    ['charset', 'utf-8'],
    ['notify_url', 'https://shop.example.com/paypal/ipn'],
    ['return', 'https://shop.example.com/thanks'],
    ['cancel_return', 'https://shop.example.com/store?cancelled=KS-1'],
  ]) {
    assert.ok(form.includes(`name="${name}" value="${value}"`), `${name}=${value}`);
  }
});
