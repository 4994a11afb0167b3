// The invoice's statuses and the sets derived from them, written once. The workflow, the
// activities, the api and SQL (through sqlList) all use these; a migration checks the column
// against `invoiceStatuses`. Pure: safe to import from workflow code.

export const invoiceStatuses = [
  'new', // a run that has not yet heard anything it could act on
  'awaiting_payment', // PayPal said Pending (pendingReason says why)
  'paid', // cleared and checked, delivery under way
  'fulfilled', // keys live
  'keys_expired',
  'needs_review', // cleared but does not match the package: an operator approves or rejects
  'rejected', // an operator rejected a payment under review
  'failed', // Denied, Failed, Expired, Voided, or never cleared within the pending limit
  'refunded',
  'reversed',
  'reinstated', // a reversal was cancelled: keys live again
  'disputed', // a dispute is open and the package suspends access meanwhile (kept, paused: see invoiceStanding)
] as const;

export type InvoiceStatus = (typeof invoiceStatuses)[number];

/** Each status by its own name (`invoiceStatus.needs_review`): code and SQL outside the workflow name one without a string literal to misspell. */
export const invoiceStatus = Object.freeze(Object.fromEntries(invoiceStatuses.map((s) => [s, s]))) as { readonly [S in InvoiceStatus]: S };

/** Not yet paid: a notification may still clear or fail it. */
export const awaitingStatuses: readonly InvoiceStatus[] = ['new', 'awaiting_payment'];

/** Cleared and not given back: the money is the seller's (an operator may refund it). */
export const paidStatuses: readonly InvoiceStatus[] = ['paid', 'fulfilled', 'keys_expired', 'needs_review', 'rejected', 'reinstated', 'disputed'];

/** The money left the seller again. */
export const returnedStatuses: readonly InvoiceStatus[] = ['refunded', 'reversed'];

/** The invoice holds keys an operator can resend, extend or regenerate. */
export const keysHeldStatuses: readonly InvoiceStatus[] = ['fulfilled', 'keys_expired', 'reinstated'];

/** The keys are live: the workflow times their reminder and their expiry. */
export const keysLiveStatuses: readonly InvoiceStatus[] = ['fulfilled', 'reinstated'];

/**
 * What an invoice's status means for everything it handed out: download links, checksum links,
 * access links, tickets, support logins, the library and the thank-you page (license keys: see
 * licenseStanding). Each thing's own expiry, limits and revocation still apply on top.
 *   live       paid and standing: everything works
 *   suspended  a dispute is open at PayPal: everything is kept but paused, and works again, with the same links, when it is settled for the seller
 *   withdrawn  refunded, reversed (a chargeback), rejected or failed: nothing works (only a cancelled reversal gives back what it took)
 *   unpaid     not paid yet: nothing is delivered until the payment clears or a person approves it
 */
export type Standing = 'live' | 'suspended' | 'withdrawn' | 'unpaid';

/** A status's standing and, unless live, the one sentence a buyer (or the person at a door) is shown about it, whatever the link. */
export type InvoiceStanding = { standing: 'live' } | { standing: Exclude<Standing, 'live'>; sentence: string };

const standings: Record<InvoiceStatus, InvoiceStanding> = {
  new: { standing: 'unpaid', sentence: 'Your payment is still being processed.' },
  awaiting_payment: { standing: 'unpaid', sentence: 'PayPal has not yet told us that your payment cleared (an eCheck, for example, takes a few business days).' },
  paid: { standing: 'live' },
  fulfilled: { standing: 'live' },
  keys_expired: { standing: 'live' }, // the download links' own lifetime ended, not the purchase
  needs_review: { standing: 'unpaid', sentence: 'Your payment is being checked by a person before delivery.' },
  rejected: { standing: 'withdrawn', sentence: 'The payment for this order was not accepted, so nothing of it was delivered.' },
  failed: { standing: 'withdrawn', sentence: 'The payment for this order did not go through, so nothing of it was delivered.' },
  refunded: { standing: 'withdrawn', sentence: 'The payment for this order was refunded, so its links no longer work.' },
  reversed: { standing: 'withdrawn', sentence: 'The payment for this order was reversed through PayPal (a chargeback), so its links no longer work.' },
  reinstated: { standing: 'live' },
  disputed: {
    standing: 'suspended',
    sentence: "A dispute about this payment is open at PayPal, so this order is paused while PayPal looks at it; the same links work again once the dispute is settled in the seller's favour.",
  },
};

const notCleared: InvoiceStanding = { standing: 'unpaid', sentence: 'The payment for this order has not cleared.' };

/** The standing of an invoice in this status; a status this code does not know is not paid. */
export function invoiceStanding(status: string): InvoiceStanding {
  return isInvoiceStatus(status) ? standings[status] : notCleared;
}

/** The sentence a buyer is shown for an invoice in this status; undefined when it is live. */
export function standingSentence(status: string): string | undefined {
  const s = invoiceStanding(status);
  return s.standing === 'live' ? undefined : s.sentence;
}

/**
 * Why a thing an invoice handed out was revoked: a row's reason is the status that revoked it
 * (refunded, reversed); otherwise the invoice's own sentence when it is withdrawn; for any other
 * reason (an operator's), that the links were switched off.
 */
export function revokedSentence(revokedReason: string | null | undefined, status: string): string {
  if (revokedReason && isInvoiceStatus(revokedReason)) return standingSentence(revokedReason) ?? switchedOff;
  return (invoiceStanding(status).standing === 'withdrawn' && standingSentence(status)) || switchedOff;
}

const switchedOff = 'The links of this order have been switched off.';

/**
 * The one exception: a license key holds while a dispute is open, because a buyer's installed
 * software should not stop over a dispute the seller may still win (the buyer's win revokes it).
 */
export function licenseStanding(status: string): InvoiceStanding {
  const s = invoiceStanding(status);
  return s.standing === 'suspended' ? { standing: 'live' } : s;
}

/** The statuses in which everything handed out works: the SQL that asks "may this download" or "who holds this" filters by them. */
export const liveStatuses: readonly InvoiceStatus[] = invoiceStatuses.filter((s) => standings[s].standing === 'live');

export function isInvoiceStatus(value: string): value is InvoiceStatus {
  return (invoiceStatuses as readonly string[]).includes(value);
}

/** True when the buyer's money was taken (and may be disputed for 180 days). */
export function moneyTaken(status: InvoiceStatus): boolean {
  return paidStatuses.includes(status) || returnedStatuses.includes(status);
}

/** A set as an SQL list of literals, e.g. `status IN (${sqlList(liveStatuses)})`; the values are this module's constants, never input. */
export function sqlList(statuses: readonly InvoiceStatus[]): string {
  return statuses.map((s) => `'${s}'`).join(', ');
}
