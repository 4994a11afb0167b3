// The simulator's checkout page: what a buyer sees after pressing a Buy Now button. Pay by card,
// pay by eCheck (pending, clears after a chosen delay), or cancel; and the Orders v2 approval page
// with the routes behind its buttons.
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { CheckoutFlow } from './checkout-flow';
import type { SimItem, SimOrder } from './ledger';
import { testBuyer } from './orders';
import { RestError } from './rest-errors';

/** Every simulator page: its title, the banner style, the body. */
function simulatorPage(title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <style>
      body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; color: #1c1c1c; }
      .banner { background: #fff3cd; padding: .5rem 1rem; border-radius: .4rem; }
      table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
      td, th { padding: .3rem; border-bottom: 1px solid #ddd; text-align: left; }
      label { display: block; margin: .4rem 0; }
      button { margin: .6rem .4rem 0 0; padding: .5rem 1rem; }
    </style>
  </head>
  <body>
    ${body}
  </body>
</html>`;
}

export function checkoutPage(input: { sessionId: string; business: string; items: SimItem[]; currency: string; total: string; environment: string }) {
  return simulatorPage('PayPal simulator: checkout', html`<p class="banner">Local PayPal simulator (${input.environment}): no money moves.</p>
    <h1>Pay ${input.business}</h1>
    <table>
      <tr><th>Item</th><th>Number</th><th>Qty</th><th>Price</th></tr>
      ${input.items.map((item) => html`<tr><td>${item.itemName}</td><td>${item.itemNumber}</td><td>${item.quantity}</td><td>${item.amount} ${input.currency}</td></tr>`)}
      <tr><th colspan="3">Total</th><th id="total">${input.total} ${input.currency}</th></tr>
    </table>
    <form method="post" action="/checkout/${input.sessionId}" accept-charset="utf-8">
      <label>E-mail <input name="email" type="email" value="buyer@example.com" required /></label>
      <label>First name <input name="first_name" value="Zoë" /></label>
      <label>Last name <input name="last_name" value="Müller" /></label>
      <label>eCheck clears after (seconds) <input name="clear_after" type="number" min="0" value="20" /></label>
      <button name="action" value="card" type="submit">Pay with card</button>
      <button name="action" value="echeck" type="submit">Pay with eCheck</button>
      <button name="action" value="cancel" type="submit" formnovalidate>Cancel and return to the store</button>
    </form>`);
}

/** The Orders v2 approval page (`rel: approve`): a plain form, one button per outcome the buyer can choose. */
export function approvalPage(input: { order: SimOrder; payer: { email: string; givenName: string; surname: string } }) {
  const { order } = input;
  const currency = order.unit.amount.currency_code;
  return simulatorPage('PayPal simulator: approve your payment', html`<p class="banner">Local PayPal simulator: no money moves. Order ${order.id}.</p>
    <h1>Pay ${order.brandName ?? order.business}</h1>
    <table>
      <tr><th>Item</th><th>SKU</th><th>Qty</th><th>Price</th></tr>
      ${(order.unit.items ?? []).map((item) => html`<tr><td>${item.name}</td><td>${item.sku ?? ''}</td><td>${item.quantity}</td><td>${item.unit_amount.value} ${currency}</td></tr>`)}
      <tr><th colspan="3">Total</th><th id="total">${order.unit.amount.value} ${currency}</th></tr>
    </table>
    <form method="post" action="/checkoutnow?token=${order.id}" accept-charset="utf-8">
      <label>E-mail <input name="email" type="email" value="${input.payer.email}" required /></label>
      <label>First name <input name="given_name" value="${input.payer.givenName}" /></label>
      <label>Last name <input name="surname" value="${input.payer.surname}" /></label>
      <button name="action" value="card" type="submit">Pay</button>
      <button name="action" value="echeck" type="submit">Pay by eCheck</button>
      <button name="action" value="declined" type="submit">Card declined</button>
      <button name="action" value="close-tab" type="submit">Approve and close the tab</button>
      <button name="action" value="cancel" type="submit" formnovalidate>Cancel and return</button>
    </form>
    <p><small>Pay: the capture completes. Pay by eCheck: it stays pending until cleared (npm run simulate -- clear CAPTURE).
    Card declined: the capture is declined. Approve and close the tab: approved without returning to the store.</small></p>`);
}

/** A short page for the buyer: the order approved in a tab meant to be closed, an expired order, ... */
export function noticePage(title: string, text: string) {
  return simulatorPage(title, html`<p class="banner">Local PayPal simulator: no money moves.</p>
    <h1>${title}</h1>
    <p>${text}</p>`);
}

/** GET shows an order's approval page; POST is its buttons: approve with an outcome, or cancel. */
export function approvalRoutes(flow: CheckoutFlow, log: (line: string) => void) {
  const routes = new Hono();
  routes.get('/checkoutnow', (c) => {
    const order = flow.findOrder(c.req.query('token') ?? '');
    if (!order) return c.html(noticePage('No such order', 'This payment link names no order; go back to the store and check out again.'), 404);
    if (flow.lapsed(order)) return c.html(noticePage('This order has expired', 'The order waited too long for your approval; go back to the store and check out again.'), 410);
    if (order.status !== 'CREATED') return c.html(noticePage('Already approved', `Order ${order.id} is ${order.status}; there is nothing more to do here.`), 409);
    return c.html(approvalPage({ order, payer: testBuyer }));
  });
  routes.post('/checkoutnow', async (c) => {
    const orderId = c.req.query('token') ?? '';
    const form = await c.req.parseBody();
    const text = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : undefined);
    const action = text('action');
    try {
      if (action === 'cancel') {
        const { redirect } = flow.cancelOrder(orderId);
        return redirect ? c.redirect(redirect, 303) : c.html(noticePage('Payment cancelled', 'You cancelled; the store named no page to return to, so close this tab.'));
      }
      const outcome = action === 'echeck' || action === 'declined' ? action : 'card';
      const { redirect, announced } = flow.approveOrder(orderId, { outcome, closeTab: action === 'close-tab', payer: { email: text('email'), givenName: text('given_name'), surname: text('surname') } });
      void announced.catch((error: Error) => log(`announcing approval of ${orderId}: ${error.message}`));
      return redirect ? c.redirect(redirect, 303) : c.html(noticePage('Payment approved', 'You can close this tab; the store completes your purchase.'));
    } catch (error) {
      const message = error instanceof RestError ? error.details.map((d) => d.description ?? d.issue).join(' ') || error.message : (error as Error).message;
      return c.html(noticePage('This order cannot be approved', message), error instanceof RestError && error.status === 404 ? 404 : 409);
    }
  });
  return routes;
}
