// The SQL of checkouts: PayPal Checkout (Orders v2) orders Keyship created, so that an order id
// (the buyer's return, the JS buttons, a webhook) finds its checkout workflow, and what it became.
import type { Queryable } from './pool';
import type { CheckoutLine, CheckoutStatus } from '../domain/checkout';

export interface CheckoutRow {
  ref: string;
  orderId: string | null;
  captureId: string | null;
  status: CheckoutStatus;
  lines: CheckoutLine[];
  currency: string;
  total: string;
  payerEmail: string | null;
  detail: string | null;
  createdAt: string;
}

const columns = `ref, order_id AS "orderId", capture_id AS "captureId", status, lines, currency, total::text AS total,
  payer_email AS "payerEmail", detail, created_at AS "createdAt"`;

/** The checkout as priced when the buyer pressed Buy (idempotent: a retried activity finds its row). */
export async function insertCheckout(db: Queryable, c: { ref: string; lines: CheckoutLine[]; currency: string; total: string }): Promise<void> {
  await db.query('INSERT INTO checkouts (ref, lines, currency, total) VALUES ($1, $2, $3, $4) ON CONFLICT (ref) DO NOTHING', [c.ref, JSON.stringify(c.lines), c.currency, c.total]);
}

/** What the checkout became; only the fields given change. */
export async function updateCheckout(
  db: Queryable,
  ref: string,
  change: { status: CheckoutStatus; orderId?: string; captureId?: string; payerEmail?: string; detail?: string },
): Promise<void> {
  await db.query(
    `UPDATE checkouts SET status = $2, order_id = COALESCE($3, order_id), capture_id = COALESCE($4, capture_id),
       payer_email = COALESCE($5, payer_email), detail = COALESCE($6, detail), updated_at = now()
     WHERE ref = $1`,
    [ref, change.status, change.orderId ?? null, change.captureId ?? null, change.payerEmail ?? null, change.detail ?? null],
  );
}

export async function checkoutByOrderId(db: Queryable, orderId: string): Promise<CheckoutRow | undefined> {
  const { rows } = await db.query<CheckoutRow>(`SELECT ${columns} FROM checkouts WHERE order_id = $1`, [orderId]);
  return rows[0];
}
