// Buyers' accounts: found by PayPal payer id first (a buyer may change e-mail in PayPal), then by
// e-mail; created otherwise. The unique index on lower(email) makes a retried creation a find.
import type { ActivityDeps } from './deps';

export interface EnsureAccountInput {
  email: string;
  payerId?: string;
  firstName?: string;
  lastName?: string;
}

export async function ensureAccount(deps: ActivityDeps, input: EnsureAccountInput): Promise<{ accountId: number }> {
  // One round trip: the account of this payer id if there is one, else the account of this
  // e-mail, created if need be (the INSERT runs only when the payer id found nothing).
  const { rows } = await deps.pool.query<{ id: number }>(
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
  return { accountId: rows[0]!.id };
}
