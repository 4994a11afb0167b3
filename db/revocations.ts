// What a refund or reversal takes from an invoice, and a cancelled reversal gives back. Every
// table of things an invoice hands out (download keys, access links, seats, support logins,
// license keys) has `invoice_id`, `revoked_at` and `revoked_reason`, so one pair of statements
// serves them all.
import type { Queryable } from './pool';

export type RevocableTable = 'download_keys' | 'access_links' | 'event_seats' | 'support_credentials' | 'license_keys';
export type RevokeReason = 'refunded' | 'reversed';

/** Revokes every live row of the invoice in `table`; how many were live. */
export async function revokeInvoiceRows(db: Queryable, table: RevocableTable, invoiceId: number, reason: RevokeReason): Promise<number> {
  // The table name is one of ours (RevocableTable), never input.
  const { rowCount } = await db.query(`UPDATE ${table} SET revoked_at = now(), revoked_reason = $2 WHERE invoice_id = $1 AND revoked_at IS NULL`, [invoiceId, reason]);
  return rowCount ?? 0;
}

/**
 * Gives back the rows a reversal took (not a refund's, an operator's or a regeneration's); with
 * `newestGeneration`, only those of the invoice's newest key generation (older links were replaced).
 */
export async function restoreInvoiceRows(db: Queryable, table: RevocableTable, invoiceId: number, options: { newestGeneration?: boolean } = {}): Promise<number> {
  const generation = options.newestGeneration ? ' AND generation = (SELECT max(generation) FROM key_generations WHERE invoice_id = $1)' : '';
  const { rowCount } = await db.query(`UPDATE ${table} SET revoked_at = NULL, revoked_reason = NULL WHERE invoice_id = $1 AND revoked_reason = 'reversed'${generation}`, [invoiceId]);
  return rowCount ?? 0;
}
