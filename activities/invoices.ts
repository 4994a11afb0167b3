// Invoice records. invoices.txn_id is unique, so recording the same payment twice finds the first
// record; the invoice number comes from a sequence only when the record is new.
import type { ActivityDeps } from './deps';
import type { InvoiceStatus } from '../domain/invoice-status';
import type { InvoiceFileView, InvoiceTimings } from '../workflows/invoice-state';
import type { NotificationItem, PaymentStatus } from '../workflows/notification';
import { invoiceTerms } from './packages';

export interface StoredInvoice {
  invoiceId: number;
  number: string;
  accountId?: number;
  status: InvoiceStatus;
  paymentStatus?: PaymentStatus;
  pendingReason?: string;
  payerEmail: string;
  amount: string;
  currency: string;
  itemNumbers: string[];
  paidAt?: string;
  keysExpireAt?: string;
  /** The newest key generation, 0 when no key was ever issued. */
  generation: number;
  keysRevoked: boolean;
  files: InvoiceFileView[];
  keyTtlSeconds: number;
  reminderHours: number | null;
  createdAt: string;
}

export interface LoadInvoiceResult {
  timings: InvoiceTimings;
  invoice?: StoredInvoice;
}

interface InvoiceRow {
  id: number;
  number: string;
  account_id: number | null;
  status: InvoiceStatus;
  payment_status: PaymentStatus | null;
  pending_reason: string | null;
  payer_email: string;
  amount: string;
  currency: string;
  paid_at: Date | null;
  keys_expire_at: Date | null;
  created_at: Date;
  generation: number | null;
  revoked: boolean;
}

/** What a new run needs to take up an invoice from Postgres (and the worker's timings). */
export async function loadInvoice(deps: ActivityDeps, input: { txnId: string }): Promise<LoadInvoiceResult> {
  const timings = deps.settings.timings;
  const { rows } = await deps.pool.query<InvoiceRow>(
    `SELECT i.id, i.number, i.account_id, i.status, i.payment_status, i.pending_reason, i.payer_email, i.amount::text AS amount,
            i.currency, i.paid_at, i.keys_expire_at, i.created_at, g.generation,
            EXISTS (SELECT 1 FROM download_keys k WHERE k.invoice_id = i.id AND k.generation = g.generation AND k.revoked_at IS NOT NULL) AS revoked
       FROM invoices i
       LEFT JOIN LATERAL (SELECT max(generation) AS generation FROM key_generations WHERE invoice_id = i.id) g ON true
      WHERE i.txn_id = $1`,
    [input.txnId],
  );
  const row = rows[0];
  if (!row) return { timings };
  const items = await deps.pool.query<{ item_number: string }>('SELECT item_number FROM invoice_items WHERE invoice_id = $1 ORDER BY item_number', [row.id]);
  const terms = await invoiceTerms(deps, row.id);
  return {
    timings,
    invoice: {
      invoiceId: row.id,
      number: row.number,
      accountId: row.account_id ?? undefined,
      status: row.status,
      paymentStatus: row.payment_status ?? undefined,
      pendingReason: row.pending_reason ?? undefined,
      payerEmail: row.payer_email,
      amount: row.amount,
      currency: row.currency.trim(),
      itemNumbers: items.rows.map((r) => r.item_number),
      paidAt: row.paid_at?.toISOString(),
      keysExpireAt: row.keys_expire_at?.toISOString(),
      generation: row.generation ?? 0,
      keysRevoked: row.revoked,
      files: terms.files,
      keyTtlSeconds: terms.keyTtlSeconds,
      reminderHours: terms.reminderHours,
      createdAt: row.created_at.toISOString(),
    },
  };
}

export interface RecordInvoiceInput {
  txnId: string;
  workflowId: string;
  accountId: number;
  status: InvoiceStatus;
  paymentStatus: PaymentStatus;
  pendingReason?: string;
  payerEmail: string;
  /** Decimal string; the absolute value is kept (a refund seen first carries a negative one). */
  gross: string;
  currency: string;
  items: NotificationItem[];
  /** paypal_messages.id of the message, linked to the invoice (0: none stored). */
  messageId: number;
}

/**
 * Finds or creates the invoice of a payment, records its items, and links the PayPal message: one
 * statement (so one round trip, and atomic without BEGIN/COMMIT). The invoice number is drawn only
 * when no invoice exists yet; two runs recording the same payment at once meet on the unique txn_id.
 */
export async function recordInvoice(deps: ActivityDeps, input: RecordInvoiceInput): Promise<{ invoiceId: number; number: string }> {
  const { rows } = await deps.pool.query<{ id: number; number: string }>(
    `WITH existing AS (
       SELECT id, number FROM invoices WHERE txn_id = $1
     ), created AS (
       INSERT INTO invoices (number, txn_id, workflow_id, account_id, status, payment_status, pending_reason, payer_email, currency, amount)
       SELECT 'KS-' || lpad(nextval('invoice_number_seq')::text, 6, '0'), $1, $2, $3, $4, $5, $6, $7, $8, abs($9::numeric)
        WHERE NOT EXISTS (SELECT 1 FROM existing)
       ON CONFLICT (txn_id) DO UPDATE SET updated_at = invoices.updated_at
       RETURNING id, number
     ), adopted AS (
       UPDATE invoices SET account_id = COALESCE(account_id, $3) WHERE id IN (SELECT id FROM existing)
     ), invoice AS (
       SELECT id, number FROM created UNION ALL SELECT id, number FROM existing
     ), items AS (
       INSERT INTO invoice_items (invoice_id, package_id, item_number, item_name, quantity, amount)
       SELECT invoice.id, p.id, p.item_number, i.item_name, GREATEST(i.quantity, 1), i.amount
         FROM invoice,
              unnest($10::text[], $11::text[], $12::int[], $13::numeric[]) WITH ORDINALITY AS i(item_number, item_name, quantity, amount, n)
         JOIN packages p ON p.item_number = i.item_number
        ORDER BY i.n
       ON CONFLICT (invoice_id, package_id) DO NOTHING
     ), message AS (
       UPDATE paypal_messages SET invoice_id = invoice.id, workflow_id = COALESCE(workflow_id, $2)
         FROM invoice WHERE paypal_messages.id = $14 AND paypal_messages.invoice_id IS NULL
     )
     SELECT id, number FROM invoice`,
    [
      input.txnId,
      input.workflowId,
      input.accountId,
      input.status,
      input.paymentStatus,
      input.pendingReason ?? null,
      input.payerEmail,
      input.currency,
      input.gross,
      input.items.map((item) => item.itemNumber),
      input.items.map((item) => item.itemName ?? null),
      input.items.map((item) => Math.trunc(item.quantity) || 1),
      input.items.map((item) => item.gross ?? null),
      input.messageId,
    ],
  );
  const invoice = rows[0];
  if (!invoice) throw new Error(`recording the invoice of PayPal transaction ${input.txnId} returned no row; it is retried`);
  return { invoiceId: invoice.id, number: invoice.number };
}

export interface SetInvoiceStatusInput {
  invoiceId: number;
  status: InvoiceStatus;
  paymentStatus?: PaymentStatus;
  /** null clears it. */
  pendingReason?: string | null;
  paidAt?: string;
  keysExpireAt?: string;
  /** The run is closing with this status (closed_at); a later action reopens it. */
  closed?: boolean;
}

/** Sets an invoice's status (idempotent: it writes the same values again on a retry). */
export async function setInvoiceStatus(deps: ActivityDeps, input: SetInvoiceStatusInput): Promise<void> {
  await deps.pool.query(
    `UPDATE invoices
        SET status = $2,
            payment_status = COALESCE($3, payment_status),
            pending_reason = CASE WHEN $4::boolean THEN $5 ELSE pending_reason END,
            paid_at = COALESCE(paid_at, $6::timestamptz),
            keys_expire_at = COALESCE($7::timestamptz, keys_expire_at),
            closed_at = CASE WHEN $8::boolean THEN COALESCE(closed_at, now()) ELSE NULL END,
            updated_at = now()
      WHERE id = $1`,
    [
      input.invoiceId,
      input.status,
      input.paymentStatus ?? null,
      input.pendingReason !== undefined,
      input.pendingReason ?? null,
      input.paidAt ?? null,
      input.keysExpireAt ?? null,
      input.closed ?? false,
    ],
  );
}
