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
  if (input.payerId) {
    const byPayer = await deps.pool.query<{ id: number }>('SELECT id FROM accounts WHERE paypal_payer_id = $1 ORDER BY id LIMIT 1', [input.payerId]);
    if (byPayer.rows[0]) return { accountId: byPayer.rows[0].id };
  }
  const { rows } = await deps.pool.query<{ id: number }>(
    `INSERT INTO accounts (email, paypal_payer_id, first_name, last_name)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT ((lower(email))) DO UPDATE
       SET paypal_payer_id = COALESCE(accounts.paypal_payer_id, EXCLUDED.paypal_payer_id),
           first_name = COALESCE(accounts.first_name, EXCLUDED.first_name),
           last_name = COALESCE(accounts.last_name, EXCLUDED.last_name),
           updated_at = now()
     RETURNING id`,
    [input.email.trim(), input.payerId ?? null, input.firstName ?? null, input.lastName ?? null],
  );
  return { accountId: rows[0]!.id };
}
