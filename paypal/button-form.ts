// A package's PayPal Buy Now button: the HTML form a seller pastes into their own site. It posts to
// PayPal's webscr (or the simulator's) with notify_url, return and cancel_return pointing at Keyship.
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { webscrUrl, type PayPalMode } from './endpoints';

export interface ButtonPackage {
  itemNumber: string;
  name: string;
  /** Decimal string, e.g. "19.95". */
  price: string;
  currency: string;
}

export interface ButtonSettings {
  mode: PayPalMode;
  simulatorUrl: string;
  /** The seller's PayPal account (PAYPAL_RECEIVER_EMAIL). */
  business: string;
  /** Keyship's public address (PUBLIC_URL). */
  publicUrl: string;
}

/** The name/value pairs of the form, in order. */
export function buyNowFields(pkg: ButtonPackage, settings: ButtonSettings): [string, string][] {
  return [
    ['cmd', '_xclick'],
    ['business', settings.business],
    ['item_number', pkg.itemNumber],
    ['item_name', pkg.name],
    ['amount', pkg.price],
    ['currency_code', pkg.currency],
    ['quantity', '1'],
    // Digital goods: no shipping address, no note.
    ['no_shipping', '1'],
    ['no_note', '1'],
    // UTF-8 for the button and for what PayPal sends back about this payment (IPN, PDT).
    ['charset', 'utf-8'],
    ['notify_url', `${settings.publicUrl}/paypal/ipn`],
    ['return', `${settings.publicUrl}/thanks`],
    ['cancel_return', `${settings.publicUrl}/store?cancelled=${encodeURIComponent(pkg.itemNumber)}`],
  ];
}

export function buyNowButton(pkg: ButtonPackage, settings: ButtonSettings): HtmlEscapedString | Promise<HtmlEscapedString> {
  const action = webscrUrl(settings.mode, settings.simulatorUrl);
  return html`<form action="${action}" method="post" target="_top" accept-charset="utf-8">
${buyNowFields(pkg, settings).map(([name, value]) => html`  <input type="hidden" name="${name}" value="${value}">\n`)}  <button type="submit">Buy ${pkg.name} for ${pkg.price} ${pkg.currency} with PayPal</button>
</form>`;
}

/** The button as text, for a seller to copy. */
export async function buyNowButtonHtml(pkg: ButtonPackage, settings: ButtonSettings): Promise<string> {
  return (await buyNowButton(pkg, settings)).toString();
}
