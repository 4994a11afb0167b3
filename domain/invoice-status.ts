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
  'disputed', // a dispute is open and the package suspends access meanwhile (keys kept, downloads refused)
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

/** A key of an invoice in one of these may download (its own expiry and limits still apply). */
export const downloadableStatuses: readonly InvoiceStatus[] = ['paid', 'fulfilled', 'keys_expired', 'reinstated'];

export function isInvoiceStatus(value: string): value is InvoiceStatus {
  return (invoiceStatuses as readonly string[]).includes(value);
}

/** True when the buyer's money was taken (and may be disputed for 180 days). */
export function moneyTaken(status: InvoiceStatus): boolean {
  return paidStatuses.includes(status) || returnedStatuses.includes(status);
}

/** A set as an SQL list of literals, e.g. `status IN (${sqlList(keysHeldStatuses)})`; the values are this module's constants, never input. */
export function sqlList(statuses: readonly InvoiceStatus[]): string {
  return statuses.map((s) => `'${s}'`).join(', ');
}
