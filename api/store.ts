// GET /store: a small demo shop, one PayPal Buy Now button per active package, exactly the form a
// seller would paste into their own site.
import { Hono } from 'hono';
import { html } from 'hono/html';
import { packagesForSale } from '../db/packages';
import { buyNowButton } from '../paypal/button-form';
import type { AppDeps } from './deps';

export function storeRoutes(deps: AppDeps) {
  const { config } = deps;
  const settings = { mode: config.paypal.mode, simulatorUrl: config.paypal.simulatorUrl, business: config.paypal.receiverEmail, publicUrl: config.publicUrl };
  const app = new Hono();

  app.get('/store', async (c) => {
    const rows = await packagesForSale(deps.pool);
    const cancelled = c.req.query('cancelled');
    const buttons = await Promise.all(
      rows.map(async (pkg) => {
        const form = await buyNowButton(pkg, settings);
        return { pkg, form, source: form.toString() };
      }),
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
      ({ pkg, form, source }) => html`<section>
        <h2>${pkg.name}</h2>
        <p>${pkg.price} ${pkg.currency} (item ${pkg.itemNumber})</p>
        ${form}
        <details><summary>Button HTML for your site</summary><pre>${source}</pre></details>
      </section>`,
    )}
  </body>
</html>`);
  });

  return app;
}
