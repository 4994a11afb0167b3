// The SQL of buyers' fresh-link requests (link_requests): one for a person to answer, or a
// self-service renewal; and the admin's reads and closing of them.
import type { Queryable } from './pool';

/** A request for a person; `keyProblem` is what the buyer's key (or the form) said was wrong. */
export async function insertOperatorRequest(
  db: Queryable,
  r: {
    email: string;
    invoiceRef: string | null;
    message: string | null;
    keyProblem: string;
    downloadKeyId: number | null;
    invoiceId: number | null;
    remoteAddr: string;
    userAgent: string | null;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO link_requests (kind, email, invoice_ref, message, key_problem, download_key_id, invoice_id, remote_addr, user_agent)
     VALUES ('operator', $1, $2, $3, $4, $5, $6, $7, $8)`,
    [r.email, r.invoiceRef, r.message, r.keyProblem, r.downloadKeyId, r.invoiceId, r.remoteAddr, r.userAgent],
  );
}

/**
 * Serialises renewals of one invoice until the transaction ends (two clicks at once must not both
 * pass the once-a-day check); `db` must be a transaction's client.
 */
export async function lockRenewals(db: Queryable, invoiceId: number): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock(hashtext('keyship link renewal'), $1::int)", [invoiceId]);
}

/** Records a self-service renewal unless one was made for this invoice in the last day; its id, or undefined then. */
export async function insertRenewalUnlessRecent(
  db: Queryable,
  r: { email: string; downloadKeyId: number; invoiceId: number; remoteAddr: string; userAgent: string | null; detail: string },
): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO link_requests (kind, email, key_problem, download_key_id, invoice_id, remote_addr, user_agent, status, status_detail, handled_at)
     SELECT 'self_service', $1, 'expired', $2, $3, $4, $5, 'renewed', $6, now()
      WHERE NOT EXISTS (SELECT 1 FROM link_requests WHERE invoice_id = $3 AND kind = 'self_service' AND status = 'renewed'
                                                     AND created_at > now() - interval '1 day')
     RETURNING id`,
    [r.email, r.downloadKeyId, r.invoiceId, r.remoteAddr, r.userAgent, r.detail],
  );
  return rows[0]?.id;
}

/** A renewal that could not be carried out goes back to a person, open, with why. */
export async function reopenRequest(db: Queryable, id: number, detail: string): Promise<void> {
  await db.query(`UPDATE link_requests SET status = 'open', handled_at = NULL, status_detail = $2 WHERE id = $1`, [id, detail]);
}

/** Marks a buyer's fresh-link request handled by a person (the answer itself went by e-mail). */
export async function closeLinkRequest(db: Queryable, id: number, detail: string): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE link_requests SET status = 'closed', status_detail = $2, handled_at = now() WHERE id = $1 AND status = 'open'`, [id, detail]);
  return (rowCount ?? 0) > 0;
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

/** The requests a person has yet to answer, oldest first. */
export async function openLinkRequests(db: Queryable): Promise<OpenLinkRequest[]> {
  const { rows } = await db.query<OpenLinkRequest>(
    `SELECT r.id, r.kind, r.email, r.invoice_ref AS "invoiceRef", i.number AS "invoiceNumber", r.message, r.key_problem AS "keyProblem", r.created_at AS "createdAt"
       FROM link_requests r LEFT JOIN invoices i ON i.id = r.invoice_id
      WHERE r.status = 'open' ORDER BY r.created_at LIMIT 200`,
  );
  return rows;
}

export interface InvoiceLinkRequest {
  id: number;
  kind: string;
  email: string;
  message: string | null;
  keyProblem: string | null;
  status: string;
  createdAt: Date;
}

/** An invoice's requests, newest first. */
export async function invoiceLinkRequests(db: Queryable, invoiceId: number): Promise<InvoiceLinkRequest[]> {
  const { rows } = await db.query<InvoiceLinkRequest>(
    `SELECT id, kind, email, message, key_problem AS "keyProblem", status, created_at AS "createdAt" FROM link_requests WHERE invoice_id = $1 ORDER BY created_at DESC`,
    [invoiceId],
  );
  return rows;
}
