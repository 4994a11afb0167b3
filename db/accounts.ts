// The SQL of buyers' accounts: found by PayPal payer id first (a buyer may change e-mail in
// PayPal), then by e-mail, created otherwise; and the admin's reads of them. The unique index on
// lower(email) makes a retried creation a find.
import type { Queryable } from './pool';
import { likePattern, pageSize } from './invoices';

export interface AccountInput {
  email: string;
  payerId?: string;
  firstName?: string;
  lastName?: string;
}

/** The account of this payer id, else of this e-mail, created if need be; its id. */
export async function ensureAccount(db: Queryable, input: AccountInput): Promise<number> {
  // One round trip: the account of this payer id if there is one, else the account of this
  // e-mail, created if need be (the INSERT runs only when the payer id found nothing).
  const { rows } = await db.query<{ id: number }>(
    `WITH by_payer AS (
       SELECT id FROM accounts WHERE $5::text IS NOT NULL AND paypal_payer_id = $5 ORDER BY id LIMIT 1
     ), by_email AS (
       INSERT INTO accounts (email, paypal_payer_id, first_name, last_name)
       SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM by_payer)
       ON CONFLICT ((lower(email))) DO UPDATE
         SET paypal_payer_id = COALESCE(accounts.paypal_payer_id, EXCLUDED.paypal_payer_id),
             first_name = COALESCE(accounts.first_name, EXCLUDED.first_name),
             last_name = COALESCE(accounts.last_name, EXCLUDED.last_name),
             updated_at = now()
       RETURNING id
     )
     SELECT id FROM by_payer UNION ALL SELECT id FROM by_email`,
    [input.email.trim(), input.payerId ?? null, input.firstName ?? null, input.lastName ?? null, input.payerId || null],
  );
  return rows[0]!.id;
}

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

/** Accounts whose e-mail or name holds `q`, or whose payer id is `q`; newest first, a page at a time. */
export async function searchAccounts(db: Queryable, search: { q?: string; page: number }): Promise<{ rows: AccountRow[]; page: number; hasMore: boolean }> {
  const { rows } = await db.query<AccountRow>(
    `SELECT ${accountColumns} FROM accounts a
      WHERE $1::text IS NULL OR a.email ILIKE $1 OR concat_ws(' ', a.first_name, a.last_name) ILIKE $1 OR a.paypal_payer_id = $2
      ORDER BY a.created_at DESC, a.id DESC LIMIT $3 OFFSET $4`,
    [search.q ? likePattern(search.q) : null, search.q ?? null, pageSize + 1, (search.page - 1) * pageSize],
  );
  return { rows: rows.slice(0, pageSize), page: search.page, hasMore: rows.length > pageSize };
}

export async function findAccount(db: Queryable, id: number): Promise<AccountRow | undefined> {
  const { rows } = await db.query<AccountRow>(`SELECT ${accountColumns} FROM accounts a WHERE a.id = $1`, [id]);
  const account = rows[0];
  return account;
}
