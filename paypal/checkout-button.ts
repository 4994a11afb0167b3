// A package's PayPal Checkout (Orders v2) button, as the store shows it and as a seller pastes it
// into their own site: a plain form that posts to Keyship's /checkout/orders (Keyship creates the
// order and sends the buyer to PayPal; no JavaScript needed), upgraded to PayPal's JS SDK buttons
// (loaded with @paypal/paypal-js) that call Keyship's create and capture endpoints.
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ButtonPackage } from './button-form';

export interface CheckoutButtonSettings {
  /** Keyship's public address (PUBLIC_URL): the form and the buttons call it. */
  publicUrl: string;
  /** The REST app's client id, which the JS SDK is loaded with. */
  clientId: string;
  /** Where the JS SDK is loaded from; PayPal's own unless the simulator plays PayPal. */
  sdkBaseUrl?: string;
}

/** The form alone: works in any browser, with or without JavaScript. */
export function checkoutForm(pkg: ButtonPackage, settings: Pick<CheckoutButtonSettings, 'publicUrl'>): HtmlEscapedString | Promise<HtmlEscapedString> {
  return html`<form action="${settings.publicUrl}/checkout/orders" method="post" target="_top" data-keyship-checkout="${pkg.itemNumber}">
  <input type="hidden" name="item_number" value="${pkg.itemNumber}">
  <input type="hidden" name="quantity" value="1">
  <button type="submit">Pay ${pkg.price} ${pkg.currency} with PayPal Checkout</button>
</form>`;
}

/**
 * The script that swaps each checkout form for PayPal's buttons once the JS SDK has loaded (the
 * forms stay when it cannot load). One per page, after the forms.
 */
export function checkoutButtonsScript(settings: CheckoutButtonSettings, currency: string): HtmlEscapedString | Promise<HtmlEscapedString> {
  // JSON inside <script>: no "<" may end the element early.
  const js = (value: unknown) => raw(JSON.stringify(value).replaceAll('<', '\\u003c'));
  const options = js({ clientId: settings.clientId, currency, ...(settings.sdkBaseUrl ? { sdkBaseUrl: settings.sdkBaseUrl } : {}) });
  const base = js(settings.publicUrl);
  return html`<script src="${settings.publicUrl}/checkout/paypal-js.js"></script>
<script>
(async () => {
  const base = ${base};
  let paypal;
  try { paypal = await window.paypalLoadScript(${options}); } catch (error) { console.warn('PayPal JS SDK not loaded; the forms stay', error); return; }
  for (const form of document.querySelectorAll('form[data-keyship-checkout]')) {
    const itemNumber = form.dataset.keyshipCheckout;
    const holder = document.createElement('div');
    form.after(holder);
    await paypal.Buttons({
      createOrder: async () => {
        const answer = await fetch(base + '/checkout/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ itemNumber, quantity: 1 }) });
        const order = await answer.json();
        if (!answer.ok) throw new Error(order.error);
        return order.id;
      },
      onApprove: async (data) => {
        const answer = await fetch(base + '/checkout/orders/' + encodeURIComponent(data.orderID) + '/capture', { method: 'POST' });
        const outcome = await answer.json();
        window.location.href = base + (outcome.thanksUrl || '/thanks?token=' + encodeURIComponent(data.orderID));
      },
    }).render(holder);
    form.hidden = true;
  }
})();
</script>`;
}

/** The whole snippet for a seller's own page. */
export async function checkoutSnippet(pkg: ButtonPackage, settings: CheckoutButtonSettings): Promise<string> {
  return `${(await checkoutForm(pkg, settings)).toString()}\n${(await checkoutButtonsScript(settings, pkg.currency)).toString()}`;
}

/** The button settings the configuration gives, or undefined when PayPal Checkout is off (PAYPAL_CHECKOUT=classic). */
export function checkoutButtonSettings(config: {
  publicUrl: string;
  paypal: { checkout: 'orders' | 'classic' | 'both'; clientId?: string; mode: string; simulatorUrl: string };
}): CheckoutButtonSettings | undefined {
  const { paypal } = config;
  if (paypal.checkout === 'classic' || !paypal.clientId) return undefined;
  return { publicUrl: config.publicUrl, clientId: paypal.clientId, sdkBaseUrl: paypal.mode === 'simulator' ? `${paypal.simulatorUrl}/sdk/js` : undefined };
}
