// Invoice records. invoices.txn_id is unique, so recording the same payment twice finds the first
// record; the invoice number comes from a sequence only when the record is new.
import type { ActivityDeps } from './deps';
import type { InvoiceFileView, InvoiceStatus, InvoiceTimings } from '../workflows/invoice-state';
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

/** Finds or creates the invoice of a payment, records its items, and links the PayPal message. */
export async function recordInvoice(deps: ActivityDeps, input: RecordInvoiceInput): Promise<{ invoiceId: number; number: string }> {
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN');
    let found = await client.query<{ id: number; number: string }>('SELECT id, number FROM invoices WHERE txn_id = $1', [input.txnId]);
    if (!found.rows[0]) {
      found = await client.query<{ id: number; number: string }>(
        `INSERT INTO invoices (number, txn_id, workflow_id, account_id, status, payment_status, pending_reason, payer_email, currency, amount)
         VALUES ('KS-' || lpad(nextval('invoice_number_seq')::text, 6, '0'), $1, $2, $3, $4, $5, $6, $7, $8, abs($9::numeric))
         ON CONFLICT (txn_id) DO UPDATE SET updated_at = invoices.updated_at
         RETURNING id, number`,
        [input.txnId, input.workflowId, input.accountId, input.status, input.paymentStatus, input.pendingReason ?? null, input.payerEmail, input.currency, input.gross],
      );
    } else {
      await client.query('UPDATE invoices SET account_id = COALESCE(account_id, $2) WHERE id = $1', [found.rows[0].id, input.accountId]);
    }
    const invoice = found.rows[0]!;
    for (const item of input.items) {
      await client.query(
        `INSERT INTO invoice_items (invoice_id, package_id, item_number, item_name, quantity, amount)
         SELECT $1, p.id, p.item_number, $3, GREATEST($4::int, 1), $5::numeric FROM packages p WHERE p.item_number = $2
         ON CONFLICT (invoice_id, package_id) DO NOTHING`,
        [invoice.id, item.itemNumber, item.itemName ?? null, Math.trunc(item.quantity) || 1, item.gross ?? null],
      );
    }
    if (input.messageId > 0) {
      await client.query(
        'UPDATE paypal_messages SET invoice_id = $1, workflow_id = COALESCE(workflow_id, $2) WHERE id = $3 AND invoice_id IS NULL',
        [invoice.id, input.workflowId, input.messageId],
      );
    }
    await client.query('COMMIT');
    return { invoiceId: invoice.id, number: invoice.number };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
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
