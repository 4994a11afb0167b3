// The SQL of the expiry reminder's "more time" links (reminder_links): recording one with its
// reminder, reading what it is for, and spending it once.
import type { Queryable } from './pool';

/** Records a reminder's link (a retried reminder records the same link again: nothing changes). */
export async function insertReminderLink(db: Queryable, r: { tokenHash: Buffer; invoiceId: number; generation: number; expiresAt: string }): Promise<void> {
  await db.query('INSERT INTO reminder_links (token_hash, invoice_id, generation, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (token_hash) DO NOTHING', [
    r.tokenHash,
    r.invoiceId,
    r.generation,
    r.expiresAt,
  ]);
}

export interface ReminderLinkRow {
  invoiceId: number;
  invoiceNumber: string;
  txnId: string;
  payerEmail: string;
  status: string;
  expiresAt: Date;
  expired: boolean;
  usedAt: Date | null;
  outcome: string | null;
  /** Every package of the invoice lets the buyer renew by themselves. */
  selfService: boolean;
  /** The shortest key lifetime among the packages, in seconds (null: KEY_TTL). */
  keyTtlSeconds: number | null;
  downloadKeyId: number | null;
}

/** A link with its invoice and what its packages allow; undefined when unknown. */
export async function findReminderLink(db: Queryable, tokenHash: Buffer): Promise<ReminderLinkRow | undefined> {
  const { rows } = await db.query<ReminderLinkRow>(
    `SELECT l.invoice_id AS "invoiceId", i.number AS "invoiceNumber", i.txn_id AS "txnId", i.payer_email AS "payerEmail", i.status,
            l.expires_at AS "expiresAt", (l.expires_at <= now() OR i.closed_at IS NOT NULL) AS expired, l.used_at AS "usedAt", l.outcome,
            COALESCE((SELECT bool_and(p.self_service) FROM invoice_items ii JOIN packages p ON p.id = ii.package_id WHERE ii.invoice_id = i.id), false) AS "selfService",
            (SELECT min(p.key_ttl_seconds) FROM invoice_items ii JOIN packages p ON p.id = ii.package_id WHERE ii.invoice_id = i.id) AS "keyTtlSeconds",
            (SELECT k.id FROM download_keys k WHERE k.invoice_id = i.id AND k.generation = l.generation ORDER BY k.id LIMIT 1) AS "downloadKeyId"
       FROM reminder_links l JOIN invoices i ON i.id = l.invoice_id
      WHERE l.token_hash = $1`,
    [tokenHash],
  );
  return rows[0];
}

/**
 * Spends a link: true for the one click that does (a second, or an expired link, gets false). A
 * link expires when the invoice's run closes (closed_at), or at the close it was sent with.
 */
export async function spendReminderLink(db: Queryable, tokenHash: Buffer, outcome: 'renewed' | 'requested', detail: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE reminder_links l SET used_at = now(), outcome = $2, outcome_detail = $3
       FROM invoices i
      WHERE l.token_hash = $1 AND i.id = l.invoice_id AND l.used_at IS NULL AND l.expires_at > now() AND i.closed_at IS NULL`,
    [tokenHash, outcome, detail],
  );
  return (rowCount ?? 0) > 0;
}
