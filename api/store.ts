// GET /store: a small demo shop. Per active package, what PAYPAL_CHECKOUT offers: the PayPal
// Checkout (Orders v2) button and the classic Buy Now button, each exactly as a seller would paste
// it into their own site. With SIGNING_KEY_FILE set, the seller's minisign public key and its key
// id, which every delivery's signed SHA256SUMS is checked with.
import { Hono } from 'hono';
import { html } from 'hono/html';
import { packagesForSale } from '../db/packages';
import { buyNowButton } from '../paypal/button-form';
import { checkoutButtonSettings, checkoutButtonsScript, checkoutForm, checkoutSnippet } from '../paypal/checkout-button';
import type { AppDeps } from './deps';
import { signingKeyFromConfig } from '../domain/signing-key';
import { minisignHome } from '../kinds/signed-checksums';

export function storeRoutes(deps: AppDeps) {
  const { config } = deps;
  const settings = { mode: config.paypal.mode, simulatorUrl: config.paypal.simulatorUrl, business: config.paypal.receiverEmail, publicUrl: config.publicUrl };
  const { checkout } = config.paypal;
  const orders = checkoutButtonSettings(config);
  const classic = checkout !== 'orders';
  const signing = signingKeyFromConfig(config);
  const app = new Hono();

  app.get('/store', async (c) => {
    const rows = await packagesForSale(deps.pool);
    const cancelled = c.req.query('cancelled');
    const buttons = await Promise.all(
      rows.map(async (pkg) => ({
        pkg,
        checkoutForm: orders ? await checkoutForm(pkg, orders) : undefined,
        checkoutSource: orders ? await checkoutSnippet(pkg, orders) : undefined,
        classicForm: classic ? await buyNowButton(pkg, settings) : undefined,
      })),
    );
    return c.html(html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Keyship demo store</title>
    <style>
      body { font-family: system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; }
      section { border: 1px solid #ddd; border-radius: .4rem; padding: 1rem; margin: 1rem 0; }
      details pre { white-space: pre-wrap; background: #f6f6f6; padding: .5rem; font-size: .8rem; }
    </style>
  </head>
  <body>
    <h1>Keyship demo store</h1>
    <p>Bought here before? <a href="/library">Get your purchases back by e-mail</a>.</p>
    ${cancelled ? html`<p role="status">Payment for ${cancelled} cancelled; nothing was charged.</p>` : ''}
    ${config.paypal.mode !== 'live' ? html`<p>PayPal ${config.paypal.mode}: no real money moves.</p>` : ''}
    ${rows.length === 0 ? html`<p>No packages yet: add one in the admin pages.</p>` : ''}
    ${buttons.map(
      (b) => html`<section>
        <h2>${b.pkg.name}</h2>
        ${b.pkg.description ? html`<p class="description" style="white-space: pre-line">${b.pkg.description}</p>` : ''}
        <p>${b.pkg.price} ${b.pkg.currency} (item ${b.pkg.itemNumber})</p>
        ${b.checkoutForm ? html`<div class="checkout">${b.checkoutForm}</div>` : ''}
        ${b.classicForm ? html`<div class="classic">${b.classicForm}</div>` : ''}
        ${b.checkoutSource ? html`<details><summary>PayPal Checkout button for your site</summary><pre>${b.checkoutSource}</pre></details>` : ''}
        ${b.classicForm ? html`<details><summary>Classic Buy Now button for your site</summary><pre>${b.classicForm.toString()}</pre></details>` : ''}
      </section>`,
    )}
    ${signing
      ? html`<section id="signing-key">
          <h2>Signed checksums</h2>
          <p>
            Every delivery comes with <code>SHA256SUMS</code> and its <a href="${minisignHome}">minisign</a> signature. Our public key (key ID
            <code>${signing.keyIdText}</code>):
          </p>
          <pre>${signing.publicKey}</pre>
          <p>Also at <a href="/minisign.pub">/minisign.pub</a>.</p>
        </section>`
      : ''}
    ${orders && rows[0] ? await checkoutButtonsScript(orders, rows[0].currency) : ''}
  </body>
</html>`);
  });

  return app;
}
