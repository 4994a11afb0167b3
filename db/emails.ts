// The SQL of outgoing e-mail (table `notifications`): each e-mail recorded under a dedupe key, the
// unique key that makes a retried activity send it once; and the admin's reads of them.
import type { Queryable } from './pool';

export interface EmailRecord {
  invoiceId: number | null;
  accountId: number | null;
  kind: string;
  dedupeKey: string;
  to: string;
  from: string;
  subject: string;
  headers: Record<string, string>;
  textBody: string;
  htmlBody: string | null;
  messageId: string;
}

/**
 * Records the e-mail and claims it for this attempt in one statement; a row already 'sent' is left
 * alone (the DO UPDATE's WHERE fails, no row comes back): false then, and nothing may go out.
 */
export async function claimEmail(db: Queryable, mail: EmailRecord): Promise<boolean> {
  const claimed = await db.query(
    `INSERT INTO notifications (invoice_id, account_id, kind, dedupe_key, to_address, from_address, subject, headers, text_body, html_body, message_id, attempts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1)
     ON CONFLICT (dedupe_key) DO UPDATE
        SET attempts = notifications.attempts + 1, subject = EXCLUDED.subject, headers = EXCLUDED.headers,
            text_body = EXCLUDED.text_body, html_body = EXCLUDED.html_body, error = NULL
      WHERE notifications.status <> 'sent'
     RETURNING id`,
    [mail.invoiceId, mail.accountId, mail.kind, mail.dedupeKey, mail.to, mail.from, mail.subject, mail.headers, mail.textBody, mail.htmlBody, mail.messageId],
  );
  return (claimed.rowCount ?? 0) > 0;
}

/** The SMTP server refused it: failed with the reason, unless an earlier attempt sent it. */
export async function markEmailFailed(db: Queryable, dedupeKey: string, reason: string): Promise<void> {
  await db.query(`UPDATE notifications SET status = 'failed', error = $2 WHERE dedupe_key = $1 AND status <> 'sent'`, [dedupeKey, reason]);
}

export async function markEmailSent(db: Queryable, dedupeKey: string): Promise<void> {
  await db.query(`UPDATE notifications SET status = 'sent', sent_at = now(), error = NULL WHERE dedupe_key = $1`, [dedupeKey]);
}

export interface InvoiceEmailRow {
  id: number;
  kind: string;
  to: string;
  subject: string;
  status: string;
  error: string | null;
  attempts: number;
  createdAt: Date;
  sentAt: Date | null;
  textBody: string | null;
}

/** The copies of an invoice's e-mails, oldest first, with the library e-mails sent to its payer's address (they name no one invoice). */
export async function invoiceEmails(db: Queryable, invoiceId: number): Promise<InvoiceEmailRow[]> {
  const { rows } = await db.query<InvoiceEmailRow>(
    `SELECT id, kind, to_address AS "to", subject, status, error, attempts, created_at AS "createdAt", sent_at AS "sentAt", text_body AS "textBody"
       FROM notifications
      WHERE invoice_id = $1
         OR (kind = 'library' AND lower(to_address) = (SELECT lower(payer_email) FROM invoices WHERE id = $1))
      ORDER BY created_at, id`,
    [invoiceId],
  );
  return rows;
}

export interface FailedEmail extends Omit<InvoiceEmailRow, 'sentAt' | 'textBody'> {
  invoiceNumber: string | null;
}

/** E-mails that failed, or that the worker is still retrying ('pending' with attempts) after 10 minutes. */
export async function failedEmails(db: Queryable): Promise<FailedEmail[]> {
  const { rows } = await db.query<FailedEmail>(
    `SELECT n.id, i.number AS "invoiceNumber", n.kind, n.to_address AS "to", n.subject, n.status, n.error, n.attempts, n.created_at AS "createdAt"
       FROM notifications n LEFT JOIN invoices i ON i.id = n.invoice_id
      WHERE n.status = 'failed' OR (n.status = 'pending' AND n.attempts > 0 AND n.created_at < now() - interval '10 minutes')
      ORDER BY n.created_at DESC LIMIT 200`,
  );
  return rows;
}
