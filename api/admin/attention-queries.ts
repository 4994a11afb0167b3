// What needs a person: invoices in review, payments pending for long, e-mails that failed (or keep
// failing), and buyers' open fresh-link requests (written by api/link-requests.tsx).
import type { Pool } from '../../db/pool';
import { failedEmails, type FailedEmail } from '../../db/emails';
import { invoicesInReview, invoicesPendingLong, type InvoiceListRow } from '../../db/invoices';
import { openLinkRequests, type OpenLinkRequest } from '../../db/link-requests';

/** A payment pending longer than this is worth a look (eChecks take 3 to 5 business days). */
export const pendingLongDays = 7;

export interface Attention {
  review: InvoiceListRow[];
  pendingLong: InvoiceListRow[];
  failedEmails: FailedEmail[];
  linkRequests: OpenLinkRequest[];
}

export async function needsAttention(pool: Pool): Promise<Attention> {
  const [review, pendingLong, emails, linkRequests] = await Promise.all([
    invoicesInReview(pool),
    invoicesPendingLong(pool, pendingLongDays),
    failedEmails(pool),
    openLinkRequests(pool),
  ]);
  return { review, pendingLong, failedEmails: emails, linkRequests };
}
