// PayPal Checkout (Orders v2) as Keyship sells through it: what a buyer asked for, priced from the
// packages in Postgres (never from the browser), and the checkout's states from Buy to capture.
// Pure: the checkout workflow, the api and the activities all read it.
import { formatCents, toCents } from './money';

/** One line of an order: a package, priced from Postgres. */
export interface CheckoutLine {
  itemNumber: string;
  name: string;
  quantity: number;
  /** Decimal string in the order's currency. */
  unitAmount: string;
}

/** What the buyer asked for: item numbers and quantities only. */
export interface RequestedLine {
  itemNumber: string;
  quantity: number;
}

/** What the store sells, as db/packages.ts reads it. */
export interface PricedPackage {
  itemNumber: string;
  name: string;
  price: string;
  currency: string;
  active: boolean;
}

export const maxQuantity = 100;

/** Prices the request from the packages; a sentence when it cannot be sold as asked. */
export function priceCheckout(requested: RequestedLine[], packages: PricedPackage[]): { lines: CheckoutLine[]; currency: string; total: string } | { problem: string } {
  if (requested.length === 0) return { problem: 'Name at least one package (item_number).' };
  const lines: CheckoutLine[] = [];
  let currency: string | undefined;
  let cents = 0;
  for (const want of requested) {
    const pkg = packages.find((p) => p.itemNumber === want.itemNumber);
    if (!pkg || !pkg.active) return { problem: `Package "${want.itemNumber}" is not for sale.` };
    if (!Number.isInteger(want.quantity) || want.quantity < 1 || want.quantity > maxQuantity) return { problem: `Quantity must be a whole number from 1 to ${maxQuantity}.` };
    if (currency && pkg.currency !== currency) return { problem: `Packages priced in ${currency} and ${pkg.currency} cannot be bought in one order; buy them one at a time.` };
    currency = pkg.currency;
    const unit = toCents(pkg.price);
    if (unit === undefined || unit <= 0) return { problem: `Package "${want.itemNumber}" has no price; it cannot be sold through PayPal Checkout.` };
    cents += unit * want.quantity;
    lines.push({ itemNumber: pkg.itemNumber, name: pkg.name, quantity: want.quantity, unitAmount: formatCents(unit) });
  }
  return { lines, currency: currency ?? 'USD', total: formatCents(cents) };
}

/** Where a checkout stands; the first four are still in play. */
export type CheckoutStatus = 'creating' | 'created' | 'approved' | 'captured' | 'pending' | 'declined' | 'abandoned' | 'failed';

/** What the buyer's return, the JS buttons' capture and the workflow's result say. */
export interface CheckoutOutcome {
  status: CheckoutStatus;
  orderId?: string;
  /** The capture id: the transaction id, and the invoice workflow's business id. */
  captureId?: string;
  pendingReason?: string;
  /** A sentence for the buyer when it did not go through. */
  detail?: string;
}

/** The checkout workflow's start: everything it needs, decided by the api when the buyer pressed Buy. */
export interface CheckoutInput {
  ref: string;
  lines: CheckoutLine[];
  currency: string;
  total: string;
  returnUrl: string;
  cancelUrl: string;
  /** PayPal's approval window: an order not approved by then lapses, and the checkout ends. */
  lifetimeSeconds: number;
}

/** PayPal's invoice_id must be unique per payment in the seller's account. */
export function paypalInvoiceId(ref: string): string {
  return `keyship-${ref}`;
}
