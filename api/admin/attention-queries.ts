// What needs a person: invoices in review, payments pending for long, e-mails that failed (or keep
// failing), and buyers' open fresh-link requests (link_requests, written by api/link-requests.tsx).
import type { Pool } from '../../db/pool';
import { invoiceStatus } from '../../domain/invoice-status';
import type { InvoiceListRow } from './invoice-queries';

/** A payment pending longer than this is worth a look (eChecks take 3 to 5 business days). */
export const pendingLongDays = 7;

export interface FailedEmail {
  id: number;
  invoiceNumber: string | null;
  kind: string;
  to: string;
  subject: string;
  status: string;
  error: string | null;
  attempts: number;
  createdAt: Date;
}

export interface OpenLinkRequest {
  id: number;
  kind: string;
  email: string;
  invoiceRef: string | null;
  invoiceNumber: string | null;
  message: string | null;
  keyProblem: string | null;
  createdAt: Date;
}

export interface Attention {
  review: InvoiceListRow[];
  pendingLong: InvoiceListRow[];
  failedEmails: FailedEmail[];
  linkRequests: OpenLinkRequest[];
}

const invoiceColumns = `i.id, i.number, i.txn_id AS "txnId", i.status, i.payer_email AS "payerEmail", i.amount::text AS amount, trim(i.currency) AS currency,
  coalesce((SELECT string_agg(ii.item_number, ', ' ORDER BY ii.item_number) FROM invoice_items ii WHERE ii.invoice_id = i.id), '') AS items,
  i.created_at AS "createdAt", i.keys_expire_at AS "keysExpireAt"`;

export async function needsAttention(pool: Pool): Promise<Attention> {
  const [review, pendingLong, failedEmails, linkRequests] = await Promise.all([
    pool.query<InvoiceListRow>(`SELECT ${invoiceColumns} FROM invoices i WHERE i.status = $1 ORDER BY i.created_at LIMIT 200`, [invoiceStatus.needs_review]),
    pool.query<InvoiceListRow>(
      `SELECT ${invoiceColumns} FROM invoices i WHERE i.status = $1 AND i.created_at < now() - make_interval(days => $2) ORDER BY i.created_at LIMIT 200`,
      [invoiceStatus.awaiting_payment, pendingLongDays],
    ),
    // 'pending' with attempts is an e-mail the worker is still retrying (SMTP refusing it).
    pool.query<FailedEmail>(
      `SELECT n.id, i.number AS "invoiceNumber", n.kind, n.to_address AS "to", n.subject, n.status, n.error, n.attempts, n.created_at AS "createdAt"
         FROM notifications n LEFT JOIN invoices i ON i.id = n.invoice_id
        WHERE n.status = 'failed' OR (n.status = 'pending' AND n.attempts > 0 AND n.created_at < now() - interval '10 minutes')
        ORDER BY n.created_at DESC LIMIT 200`,
    ),
    pool.query<OpenLinkRequest>(
      `SELECT r.id, r.kind, r.email, r.invoice_ref AS "invoiceRef", i.number AS "invoiceNumber", r.message, r.key_problem AS "keyProblem", r.created_at AS "createdAt"
         FROM link_requests r LEFT JOIN invoices i ON i.id = r.invoice_id
        WHERE r.status = 'open' ORDER BY r.created_at LIMIT 200`,
    ),
  ]);
  const ids = <T extends { id: number | string }>(rows: T[]) => rows.map((r) => ({ ...r, id: Number(r.id) }));
  return { review: ids(review.rows), pendingLong: ids(pendingLong.rows), failedEmails: ids(failedEmails.rows), linkRequests: ids(linkRequests.rows) };
}

/** Marks a buyer's fresh-link request handled by a person (the answer itself went by e-mail). */
export async function closeLinkRequest(pool: Pool, id: number, detail: string): Promise<boolean> {
  const { rowCount } = await pool.query(`UPDATE link_requests SET status = 'closed', status_detail = $2, handled_at = now() WHERE id = $1 AND status = 'open'`, [id, detail]);
  return (rowCount ?? 0) > 0;
}
