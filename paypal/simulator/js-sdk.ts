// A stand-in for PayPal's JS SDK (https://www.paypal.com/sdk/js), which only PayPal serves: enough
// of `paypal.Buttons({ createOrder, onApprove, onCancel, onError }).render(el)` for a page to
// behave as with the real one. The button opens the simulator's approval page in a popup with the
// order createOrder answered, watches the order, and calls onApprove once the buyer approved it
// (onCancel when the popup closes unapproved). Loaded by @paypal/paypal-js with `sdkBaseUrl`.
import { Hono } from 'hono';
import type { Ledger } from './ledger';

function sdkSource(simulatorUrl: string): string {
  return `(() => {
  const sim = ${JSON.stringify(simulatorUrl)};
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  async function watch(orderID, popup) {
    for (;;) {
      await sleep(300);
      const order = await fetch(sim + '/sdk/orders/' + encodeURIComponent(orderID)).then((r) => r.json());
      if (order.status === 'APPROVED' || order.status === 'COMPLETED') return { approved: true, payerID: order.payerId };
      if (popup.closed) return { approved: false };
    }
  }
  window.paypal = {
    version: 'keyship-simulator',
    Buttons(options) {
      return {
        isEligible: () => true,
        async render(target) {
          const holder = typeof target === 'string' ? document.querySelector(target) : target;
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'paypal-buttons';
          button.textContent = 'PayPal (simulator)';
          holder.appendChild(button);
          button.addEventListener('click', async () => {
            const popup = window.open('about:blank', 'paypal-simulator', 'width=480,height=720');
            try {
              const orderID = await options.createOrder({}, {});
              popup.location.href = sim + '/checkoutnow?token=' + encodeURIComponent(orderID);
              const seen = await watch(orderID, popup);
              if (!popup.closed) popup.close();
              if (seen.approved) await options.onApprove({ orderID, payerID: seen.payerID }, {});
              else if (options.onCancel) options.onCancel({ orderID });
            } catch (error) {
              if (popup && !popup.closed) popup.close();
              if (options.onError) options.onError(error); else throw error;
            }
          });
        },
      };
    },
  };
})();
`;
}

/** GET /sdk/js (the SDK) and GET /sdk/orders/:id (what the SDK watches; any origin may read it). */
export function jsSdkRoutes(deps: { ledger: Ledger; url: () => string }) {
  const app = new Hono();
  app.get('/sdk/js', (c) => c.body(sdkSource(deps.url()), 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }));
  app.get('/sdk/orders/:id', (c) => {
    const order = deps.ledger.orders.get(c.req.param('id'));
    c.header('access-control-allow-origin', '*');
    if (!order) return c.json({ error: 'no such order' }, 404);
    return c.json({ id: order.id, status: order.status, payerId: order.approval?.payer.payerId });
  });
  return app;
}
