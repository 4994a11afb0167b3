// The SQL of invoices and their items: recording a payment, its status, what the worker, the
// thank-you page and the admin read of it. invoices.txn_id is unique, so recording the same payment
// twice finds the first record; the invoice number comes from a sequence only when the record is new.
import type { Queryable } from './pool';
import type { BulkScope } from '../domain/operator-actions';
import { invoiceStatus, keysHeldStatuses, keysLiveStatuses, liveStatuses, sqlList, type InvoiceStatus } from '../domain/invoice-status';
import type { NotificationItem, PaymentStatus } from '../workflows/notification';
import type { DisputeState } from '../domain/money-policy';

export interface InvoiceRow {
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
  /** The newest key generation; null when no key was ever issued. */
  generation: number | null;
  /** The newest generation's keys are revoked. */
  revoked: boolean;
  refunded_amount: string;
  disputed_amount: string;
  dispute_case_id: string | null;
  dispute_state: DisputeState | null;
}

/** The invoice of a PayPal transaction, with its newest key generation (what a new run takes up). */
export async function invoiceByTxn(db: Queryable, txnId: string): Promise<InvoiceRow | undefined> {
  const { rows } = await db.query<InvoiceRow>(
    `SELECT i.id, i.number, i.account_id, i.status, i.payment_status, i.pending_reason, i.payer_email, i.amount::text AS amount,
            i.currency, i.paid_at, i.keys_expire_at, i.created_at, g.generation,
            i.refunded_amount::text AS refunded_amount, i.disputed_amount::text AS disputed_amount, i.dispute_case_id, i.dispute_state,
            EXISTS (SELECT 1 FROM download_keys k WHERE k.invoice_id = i.id AND k.generation = g.generation AND k.revoked_at IS NOT NULL) AS revoked
       FROM invoices i
       LEFT JOIN LATERAL (SELECT max(generation) AS generation FROM key_generations WHERE invoice_id = i.id) g ON true
      WHERE i.txn_id = $1`,
    [txnId],
  );
  return rows[0];
}

/** The item numbers an invoice was recorded with, sorted. */
export async function invoiceItemNumbers(db: Queryable, invoiceId: number): Promise<string[]> {
  const { rows } = await db.query<{ item_number: string }>('SELECT item_number FROM invoice_items WHERE invoice_id = $1 ORDER BY item_number', [invoiceId]);
  return rows.map((r) => r.item_number);
}

/** The items an invoice was recorded with, as PayPal named them. */
export async function invoiceItems(db: Queryable, invoiceId: number): Promise<NotificationItem[]> {
  const { rows } = await db.query<{ item_number: string; item_name: string | null; quantity: number }>(
    'SELECT item_number, item_name, quantity FROM invoice_items WHERE invoice_id = $1 ORDER BY item_number',
    [invoiceId],
  );
  return rows.map((r) => ({ itemNumber: r.item_number, itemName: r.item_name ?? undefined, quantity: r.quantity }));
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
export async function recordInvoice(db: Queryable, input: RecordInvoiceInput): Promise<{ id: number; number: string } | undefined> {
  const { rows } = await db.query<{ id: number; number: string }>(
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
  return rows[0];
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
  /** Decimal strings; left as they are when not given. */
  refundedAmount?: string;
  disputedAmount?: string;
  disputeCaseId?: string;
  disputeState?: DisputeState;
}

/** Sets an invoice's status (idempotent: it writes the same values again on a retry). */
export async function setInvoiceStatus(db: Queryable, input: SetInvoiceStatusInput): Promise<void> {
  await db.query(
    `UPDATE invoices
        SET status = $2,
            payment_status = COALESCE($3, payment_status),
            pending_reason = CASE WHEN $4::boolean THEN $5 ELSE pending_reason END,
            paid_at = COALESCE(paid_at, $6::timestamptz),
            keys_expire_at = COALESCE($7::timestamptz, keys_expire_at),
            closed_at = CASE WHEN $8::boolean THEN COALESCE(closed_at, now()) ELSE NULL END,
            refunded_amount = COALESCE($9::numeric, refunded_amount),
            disputed_amount = COALESCE($10::numeric, disputed_amount),
            dispute_case_id = COALESCE($11, dispute_case_id),
            dispute_state = COALESCE($12, dispute_state),
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
      input.refundedAmount ?? null,
      input.disputedAmount ?? null,
      input.disputeCaseId ?? null,
      input.disputeState ?? null,
    ],
  );
}

export interface InvoiceMailRow {
  id: number;
  number: string;
  txn_id: string;
  account_id: number | null;
  payer_email: string;
  first_name: string | null;
  last_name: string | null;
  amount: string;
  currency: string;
  package_names: string[];
  support_texts: string[];
}

/**
 * One round trip: the invoice, its buyer's first name, and its packages' names and support texts;
 * with `lock`, the invoice's row is locked (FOR UPDATE) by the same statement.
 */
export async function invoiceForMail(db: Queryable, invoiceId: number, lock = false): Promise<InvoiceMailRow | undefined> {
  const { rows } = await db.query<InvoiceMailRow>(
    `SELECT i.id, i.number, i.txn_id, i.account_id, i.payer_email, a.first_name, a.last_name, i.amount::text AS amount, i.currency,
            ARRAY(SELECT p.name FROM invoice_items ii JOIN packages p ON p.id = ii.package_id WHERE ii.invoice_id = i.id ORDER BY p.id) AS package_names,
            ARRAY(SELECT p.support_text FROM invoice_items ii JOIN packages p ON p.id = ii.package_id WHERE ii.invoice_id = i.id ORDER BY p.id) AS support_texts
       FROM invoices i LEFT JOIN accounts a ON a.id = i.account_id WHERE i.id = $1${lock ? ' FOR UPDATE OF i' : ''}`,
    [invoiceId],
  );
  return rows[0];
}

// Constants of ours, not input: safe to write into the SQL text.
const scopeCondition: Record<BulkScope, string> = {
  live: `i.status IN (${sqlList(keysLiveStatuses)}) AND i.keys_expire_at > now()`,
  buyers: `i.status IN (${sqlList(keysHeldStatuses)})`,
};

const bulkFrom = (scope: BulkScope) => `FROM invoices i JOIN invoice_items ii ON ii.invoice_id = i.id JOIN packages p ON p.id = ii.package_id
                WHERE p.item_number = $1 AND ${scopeCondition[scope]}`;

/** The newest invoice of a package in the scope, and how many there are. */
export async function bulkTargetsHead(db: Queryable, itemNumber: string, scope: BulkScope): Promise<{ upTo: number; total: number }> {
  const head = await db.query<{ up_to: string | null; total: number }>(`SELECT max(i.id) AS up_to, count(*)::int AS total ${bulkFrom(scope)}`, [itemNumber]);
  return { upTo: Number(head.rows[0]?.up_to ?? 0), total: head.rows[0]?.total ?? 0 };
}

/** A page of a package's invoices in the scope, by id after `afterInvoiceId` up to `upTo`. */
export async function bulkTargets(
  db: Queryable,
  input: { itemNumber: string; scope: BulkScope; afterInvoiceId: number; upTo: number; limit: number },
): Promise<{ invoiceId: number; txnId: string; number: string }[]> {
  const { rows } = await db.query<{ id: string; txn_id: string; number: string }>(
    `SELECT i.id, i.txn_id, i.number ${bulkFrom(input.scope)} AND i.id > $2 AND i.id <= $3 ORDER BY i.id LIMIT $4`,
    [input.itemNumber, input.afterInvoiceId, input.upTo, input.limit],
  );
  return rows.map((r) => ({ invoiceId: Number(r.id), txnId: r.txn_id, number: r.number }));
}

/** The number of the invoice a workflow keeps (log lines carry it). */
export async function invoiceNumberOfWorkflow(db: Queryable, workflowId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ number: string }>('SELECT number FROM invoices WHERE workflow_id = $1', [workflowId]);
  return rows[0]?.number;
}

/** The invoice a buyer names by number or transaction id, only when it was paid from this e-mail. */
export async function invoiceIdForBuyer(db: Queryable, ref: string, email: string): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number }>('SELECT id FROM invoices WHERE (number = $1 OR txn_id = $1) AND lower(payer_email) = lower($2)', [ref, email]);
  return rows[0]?.id;
}

export interface ThanksInvoiceRow
  extends Pick<InvoiceRow, 'id' | 'number' | 'pending_reason' | 'payer_email' | 'amount' | 'currency' | 'paid_at' | 'keys_expire_at' | 'generation'> {
  status: string;
  recently_paid: boolean;
  salt: Buffer | null;
}

/** The thank-you page's invoice, with its newest key generation and whether it was paid within `linksForSeconds`. */
export async function thanksInvoiceRow(db: Queryable, txnId: string, linksForSeconds: number): Promise<ThanksInvoiceRow | undefined> {
  const { rows } = await db.query<ThanksInvoiceRow>(
    `SELECT i.id, i.number, i.status, i.pending_reason, i.payer_email, i.amount::text AS amount, i.currency, i.paid_at, i.keys_expire_at,
            coalesce(i.paid_at, i.fulfilled_at) > now() - make_interval(secs => $2) AS recently_paid, g.generation, g.salt
       FROM invoices i
       LEFT JOIN LATERAL (SELECT generation, salt FROM key_generations WHERE invoice_id = i.id ORDER BY generation DESC LIMIT 1) g ON true
      WHERE i.txn_id = $1`,
    [txnId, linksForSeconds],
  );
  return rows[0];
}

// The admin's reads.

export interface InvoiceListRow {
  id: number;
  number: string;
  txnId: string;
  status: InvoiceStatus;
  payerEmail: string;
  amount: string;
  currency: string;
  items: string;
  createdAt: Date;
  keysExpireAt: Date | null;
}

const listColumns = `i.id, i.number, i.txn_id AS "txnId", i.status, i.payer_email AS "payerEmail", i.amount::text AS amount, trim(i.currency) AS currency,
  coalesce((SELECT string_agg(ii.item_number, ', ' ORDER BY ii.item_number) FROM invoice_items ii WHERE ii.invoice_id = i.id), '') AS items,
  i.created_at AS "createdAt", i.keys_expire_at AS "keysExpireAt"`;

export const pageSize = 50;

export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export interface InvoiceFilter {
  /** Matches part of the e-mail, or the whole invoice number or PayPal transaction id. */
  q?: string;
  email?: string;
  number?: string;
  txn?: string;
  /** A package's item number. */
  item?: string;
  status?: InvoiceStatus;
  /** Days, YYYY-MM-DD. */
  from?: string;
  to?: string;
  page: number;
}

export async function searchInvoices(db: Queryable, search: InvoiceFilter): Promise<{ rows: InvoiceListRow[]; page: number; hasMore: boolean }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (search.q) {
    params.push(likePattern(search.q), search.q);
    const [like, exact] = [`$${params.length - 1}`, `$${params.length}`];
    where.push(`(i.payer_email ILIKE ${like} OR upper(i.number) = upper(${exact}) OR i.txn_id = ${exact})`);
  }
  if (search.email) add((p) => `lower(i.payer_email) = lower(${p})`, search.email);
  if (search.number) add((p) => `upper(i.number) = upper(${p})`, search.number);
  if (search.txn) add((p) => `i.txn_id = ${p}`, search.txn);
  if (search.item) add((p) => `EXISTS (SELECT 1 FROM invoice_items ii WHERE ii.invoice_id = i.id AND ii.item_number = ${p})`, search.item);
  if (search.status) add((p) => `i.status = ${p}`, search.status);
  if (search.from) add((p) => `i.created_at >= ${p}::date`, search.from);
  if (search.to) add((p) => `i.created_at < ${p}::date + 1`, search.to);
  params.push(pageSize + 1, (search.page - 1) * pageSize);
  const { rows } = await db.query<InvoiceListRow>(
    `SELECT ${listColumns}
       FROM invoices i
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY i.created_at DESC, i.id DESC
      LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  return { rows: rows.slice(0, pageSize), page: search.page, hasMore: rows.length > pageSize };
}

/** An account's invoices, newest first. */
export async function accountInvoices(db: Queryable, accountId: number): Promise<InvoiceListRow[]> {
  const { rows } = await db.query<InvoiceListRow>(`SELECT ${listColumns} FROM invoices i WHERE i.account_id = $1 ORDER BY i.created_at DESC`, [accountId]);
  return rows;
}

/** Invoices an operator must approve or reject. */
export async function invoicesInReview(db: Queryable): Promise<InvoiceListRow[]> {
  const { rows } = await db.query<InvoiceListRow>(`SELECT ${listColumns} FROM invoices i WHERE i.status = $1 ORDER BY i.created_at LIMIT 200`, [
    invoiceStatus.needs_review,
  ]);
  return rows;
}

/** Invoices with a dispute open at PayPal, oldest first. */
export async function invoicesDisputed(db: Queryable): Promise<InvoiceListRow[]> {
  const { rows } = await db.query<InvoiceListRow>(`SELECT ${listColumns} FROM invoices i WHERE i.dispute_state = 'open' ORDER BY i.updated_at LIMIT 200`);
  return rows;
}

/** Invoices marked refunded here whose refund PayPal has not (yet) confirmed in full. */
export async function refundsAwaitingPayPal(db: Queryable): Promise<InvoiceListRow[]> {
  const { rows } = await db.query<InvoiceListRow>(`SELECT ${listColumns} FROM invoices i WHERE i.status = $1 AND i.refunded_amount < i.amount ORDER BY i.updated_at LIMIT 200`, [
    invoiceStatus.refunded,
  ]);
  return rows;
}

/** Payments pending for more than `days` days. */
export async function invoicesPendingLong(db: Queryable, days: number): Promise<InvoiceListRow[]> {
  const { rows } = await db.query<InvoiceListRow>(
    `SELECT ${listColumns} FROM invoices i WHERE i.status = $1 AND i.created_at < now() - make_interval(days => $2) ORDER BY i.created_at LIMIT 200`,
    [invoiceStatus.awaiting_payment, days],
  );
  return rows;
}

export interface InvoiceHead {
  id: number;
  number: string;
  txnId: string;
  workflowId: string;
  status: InvoiceStatus;
  paymentStatus: string | null;
  pendingReason: string | null;
  payerEmail: string;
  amount: string;
  currency: string;
  accountId: number | null;
  accountName: string | null;
  createdAt: Date;
  paidAt: Date | null;
  fulfilledAt: Date | null;
  keysExpireAt: Date | null;
  closedAt: Date | null;
  refundedAmount: string;
  disputedAmount: string;
  disputeCaseId: string | null;
  disputeState: DisputeState | null;
}

/** The invoice's own row by its number (KS-001001) or its PayPal transaction id; undefined when neither. */
export async function findInvoice(db: Queryable, ref: string): Promise<InvoiceHead | undefined> {
  const head = await db.query<InvoiceHead>(
    `SELECT i.id, i.number, i.txn_id AS "txnId", i.workflow_id AS "workflowId", i.status, i.payment_status AS "paymentStatus",
            i.pending_reason AS "pendingReason", i.payer_email AS "payerEmail", i.amount::text AS amount, trim(i.currency) AS currency,
            i.account_id AS "accountId", nullif(trim(concat_ws(' ', a.first_name, a.last_name)), '') AS "accountName",
            i.created_at AS "createdAt", i.paid_at AS "paidAt", i.fulfilled_at AS "fulfilledAt", i.keys_expire_at AS "keysExpireAt", i.closed_at AS "closedAt",
            i.refunded_amount::text AS "refundedAmount", i.disputed_amount::text AS "disputedAmount", i.dispute_case_id AS "disputeCaseId", i.dispute_state AS "disputeState"
       FROM invoices i LEFT JOIN accounts a ON a.id = i.account_id
      WHERE upper(i.number) = upper($1) OR i.txn_id = $1
      LIMIT 1`,
    [ref],
  );
  return head.rows[0];
}

export interface InvoiceItemRow {
  itemNumber: string;
  itemName: string | null;
  quantity: number;
  amount: string | null;
}

/** An invoice's items for a person: item number, PayPal's name, quantity, amount. */
export async function invoiceItemRows(db: Queryable, invoiceId: number): Promise<InvoiceItemRow[]> {
  const { rows } = await db.query<InvoiceItemRow>(
    `SELECT item_number AS "itemNumber", item_name AS "itemName", quantity, amount::text AS amount FROM invoice_items WHERE invoice_id = $1 ORDER BY item_number`,
    [invoiceId],
  );
  return rows;
}

export interface BuyerRow {
  invoice: string;
  date: string;
  email: string;
  firstName: string;
  lastName: string;
  quantity: number;
  amount: string;
  currency: string;
  status: string;
  txnId: string;
}

/** Everyone who paid for the package and was not refunded, oldest first. */
export async function packageBuyers(db: Queryable, itemNumber: string): Promise<BuyerRow[]> {
  const { rows } = await db.query<BuyerRow>(
    `SELECT i.number AS invoice, to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS date, i.payer_email AS email,
            coalesce(a.first_name, '') AS "firstName", coalesce(a.last_name, '') AS "lastName", ii.quantity,
            i.amount::text AS amount, trim(i.currency) AS currency, i.status, i.txn_id AS "txnId"
       FROM invoice_items ii JOIN packages p ON p.id = ii.package_id JOIN invoices i ON i.id = ii.invoice_id LEFT JOIN accounts a ON a.id = i.account_id
      WHERE p.item_number = $1 AND i.status IN (${sqlList(liveStatuses)})
      ORDER BY i.created_at, i.id`,
    [itemNumber],
  );
  return rows;
}
