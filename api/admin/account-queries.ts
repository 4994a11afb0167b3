// The admin's reads of client accounts: a searchable list and one account with its invoices.
import { z } from 'zod';
import type { Pool } from '../../db/pool';
import { likePattern, pageSize, type InvoiceListRow } from './invoice-queries';

export const accountSearchSchema = z.object({
  q: z.string().trim().max(200).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
export type AccountSearch = z.output<typeof accountSearchSchema>;

export interface AccountRow {
  id: number;
  email: string;
  name: string | null;
  paypalPayerId: string | null;
  createdAt: Date;
  invoiceCount: number;
  lastInvoiceAt: Date | null;
}


const accountColumns = `a.id, a.email, nullif(trim(concat_ws(' ', a.first_name, a.last_name)), '') AS name, a.paypal_payer_id AS "paypalPayerId",
  a.created_at AS "createdAt", (SELECT count(*)::int FROM invoices i WHERE i.account_id = a.id) AS "invoiceCount",
  (SELECT max(i.created_at) FROM invoices i WHERE i.account_id = a.id) AS "lastInvoiceAt"`;

export async function searchAccounts(pool: Pool, search: AccountSearch): Promise<{ rows: AccountRow[]; page: number; hasMore: boolean }> {
  const { rows } = await pool.query<AccountRow>(
    `SELECT ${accountColumns} FROM accounts a
      WHERE $1::text IS NULL OR a.email ILIKE $1 OR concat_ws(' ', a.first_name, a.last_name) ILIKE $1 OR a.paypal_payer_id = $2
      ORDER BY a.created_at DESC, a.id DESC LIMIT $3 OFFSET $4`,
    [search.q ? likePattern(search.q) : null, search.q ?? null, pageSize + 1, (search.page - 1) * pageSize],
  );
  return { rows: rows.slice(0, pageSize).map((r) => ({ ...r, id: Number(r.id) })), page: search.page, hasMore: rows.length > pageSize };
}

export async function accountDetail(pool: Pool, id: number): Promise<{ account: AccountRow; invoices: InvoiceListRow[] } | undefined> {
  const { rows } = await pool.query<AccountRow>(`SELECT ${accountColumns} FROM accounts a WHERE a.id = $1`, [id]);
  const account = rows[0];
  if (!account) return undefined;
  const invoices = await pool.query<InvoiceListRow>(
    `SELECT i.id, i.number, i.txn_id AS "txnId", i.status, i.payer_email AS "payerEmail", i.amount::text AS amount, trim(i.currency) AS currency,
            coalesce((SELECT string_agg(ii.item_number, ', ' ORDER BY ii.item_number) FROM invoice_items ii WHERE ii.invoice_id = i.id), '') AS items,
            i.created_at AS "createdAt", i.keys_expire_at AS "keysExpireAt"
       FROM invoices i WHERE i.account_id = $1 ORDER BY i.created_at DESC`,
    [id],
  );
  return { account: { ...account, id: Number(account.id) }, invoices: invoices.rows.map((r) => ({ ...r, id: Number(r.id) })) };
}
