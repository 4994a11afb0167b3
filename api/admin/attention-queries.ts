// What needs a person: invoices in review, payments pending for long, e-mails that failed (or keep
// failing), buyers' open fresh-link requests (written by api/link-requests.tsx), open disputes,
// refunds PayPal has not confirmed, and PayPal messages that were not verified.
import type { Pool } from '../../db/pool';
import { failedEmails, type FailedEmail } from '../../db/emails';
import { invoicesDisputed, invoicesInReview, invoicesPendingLong, refundsAwaitingPayPal, type InvoiceListRow } from '../../db/invoices';
import { unverifiedMessages, type UnverifiedMessageRow } from '../../db/paypal-messages';
import { openLinkRequests, type OpenLinkRequest } from '../../db/link-requests';

/** A payment pending longer than this is worth a look (eChecks take 3 to 5 business days). */
export const pendingLongDays = 7;

export interface Attention {
  review: InvoiceListRow[];
  pendingLong: InvoiceListRow[];
  failedEmails: FailedEmail[];
  linkRequests: OpenLinkRequest[];
  disputes: InvoiceListRow[];
  refundsAwaitingPayPal: InvoiceListRow[];
  /** PayPal messages not verified (rejected, or waiting for a retry): each can be re-checked. */
  unverifiedMessages: UnverifiedMessageRow[];
}

export async function needsAttention(pool: Pool): Promise<Attention> {
  const [review, pendingLong, emails, linkRequests, disputes, refunds, unverified] = await Promise.all([
    invoicesInReview(pool),
    invoicesPendingLong(pool, pendingLongDays),
    failedEmails(pool),
    openLinkRequests(pool),
    invoicesDisputed(pool),
    refundsAwaitingPayPal(pool),
    unverifiedMessages(pool),
  ]);
  return { review, pendingLong, failedEmails: emails, linkRequests, disputes, refundsAwaitingPayPal: refunds, unverifiedMessages: unverified };
}
