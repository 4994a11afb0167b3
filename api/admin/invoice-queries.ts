// The admin's reads of invoices: search with paging, and everything one invoice has (items, raw
// PayPal messages, keys, e-mail copies, downloads, fresh-link requests) for its detail page and
// GET /api/admin/invoices/:number. Read-only: every change goes through the invoice workflow.
import { z } from 'zod';
import type { Pool } from '../../db/pool';
import { invoiceStatuses, type InvoiceStatus } from '../../domain/invoice-status';

const day = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-01-31')
  .optional()
  .or(z.literal('').transform(() => undefined));

export const invoiceSearchSchema = z.object({
  /** Matches part of the e-mail, or the whole invoice number or PayPal transaction id. */
  q: z.string().trim().max(200).optional(),
  email: z.string().trim().max(254).optional(),
  number: z.string().trim().max(64).optional(),
  txn: z.string().trim().max(64).optional(),
  /** A package's item number. */
  item: z.string().trim().max(127).optional(),
  status: z.enum(invoiceStatuses).optional().or(z.literal('').transform(() => undefined)),
  from: day,
  to: day,
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
export type InvoiceSearch = z.output<typeof invoiceSearchSchema>;

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

export const pageSize = 50;

export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function searchInvoices(pool: Pool, search: InvoiceSearch): Promise<{ rows: InvoiceListRow[]; page: number; hasMore: boolean }> {
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
  const { rows } = await pool.query<InvoiceListRow>(
    `SELECT i.id, i.number, i.txn_id AS "txnId", i.status, i.payer_email AS "payerEmail", i.amount::text AS amount, trim(i.currency) AS currency,
            coalesce((SELECT string_agg(ii.item_number, ', ' ORDER BY ii.item_number) FROM invoice_items ii WHERE ii.invoice_id = i.id), '') AS items,
            i.created_at AS "createdAt", i.keys_expire_at AS "keysExpireAt"
       FROM invoices i
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY i.created_at DESC, i.id DESC
      LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  return { rows: rows.slice(0, pageSize).map((r) => ({ ...r, id: Number(r.id) })), page: search.page, hasMore: rows.length > pageSize };
}

export interface InvoiceDetail {
  invoice: {
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
  };
  items: { itemNumber: string; itemName: string | null; quantity: number; amount: string | null }[];
  messages: {
    id: number;
    channel: string;
    receivedAt: Date;
    paymentStatus: string | null;
    verification: string;
    verificationDetail: string | null;
    outcome: string;
    outcomeDetail: string | null;
    remoteAddr: string | null;
    headers: unknown;
    fields: unknown;
    rawBody: string;
  }[];
  keys: {
    id: number;
    file: string;
    generation: number;
    expiresAt: Date;
    revokedAt: Date | null;
    revokedReason: string | null;
    downloadCount: number;
    downloadLimit: number | null;
    createdAt: Date;
  }[];
  generations: { generation: number; purpose: string; createdAt: Date }[];
  emails: {
    id: number;
    kind: string;
    to: string;
    subject: string;
    status: string;
    error: string | null;
    attempts: number;
    createdAt: Date;
    sentAt: Date | null;
    textBody: string | null;
  }[];
  downloads: {
    id: number;
    file: string | null;
    startedAt: Date;
    remoteAddr: string | null;
    userAgent: string | null;
    range: string | null;
    statusCode: number | null;
    bytesSent: string;
    completed: boolean;
    refused: string | null;
  }[];
  linkRequests: { id: number; kind: string; email: string; message: string | null; keyProblem: string | null; status: string; createdAt: Date }[];
}

/** The invoice's own row by its number (KS-001001) or its PayPal transaction id; undefined when neither. */
export async function findInvoice(pool: Pool, ref: string): Promise<InvoiceDetail['invoice'] | undefined> {
  const head = await pool.query<InvoiceDetail['invoice']>(
    `SELECT i.id, i.number, i.txn_id AS "txnId", i.workflow_id AS "workflowId", i.status, i.payment_status AS "paymentStatus",
            i.pending_reason AS "pendingReason", i.payer_email AS "payerEmail", i.amount::text AS amount, trim(i.currency) AS currency,
            i.account_id AS "accountId", nullif(trim(concat_ws(' ', a.first_name, a.last_name)), '') AS "accountName",
            i.created_at AS "createdAt", i.paid_at AS "paidAt", i.fulfilled_at AS "fulfilledAt", i.keys_expire_at AS "keysExpireAt", i.closed_at AS "closedAt"
       FROM invoices i LEFT JOIN accounts a ON a.id = i.account_id
      WHERE upper(i.number) = upper($1) OR i.txn_id = $1
      LIMIT 1`,
    [ref],
  );
  return head.rows[0];
}

/** The invoice with everything about it (items, messages, keys, e-mails, downloads, requests). */
export async function invoiceDetail(pool: Pool, ref: string): Promise<InvoiceDetail | undefined> {
  const invoice = await findInvoice(pool, ref);
  if (!invoice) return undefined;
  const id = Number(invoice.id);
  const [items, messages, keys, generations, emails, downloads, linkRequests] = await Promise.all([
    pool.query(`SELECT item_number AS "itemNumber", item_name AS "itemName", quantity, amount::text AS amount FROM invoice_items WHERE invoice_id = $1 ORDER BY item_number`, [id]),
    pool.query(
      // A message may reach us before its invoice exists: match it by transaction id as well.
      `SELECT id, channel, received_at AS "receivedAt", payment_status AS "paymentStatus", verification, verification_detail AS "verificationDetail",
              outcome, outcome_detail AS "outcomeDetail", remote_addr AS "remoteAddr", headers, fields, raw_body AS "rawBody", charset
         FROM paypal_messages WHERE invoice_id = $1 OR txn_id = $2 OR parent_txn_id = $2 ORDER BY received_at, id`,
      [id, invoice.txnId],
    ),
    pool.query(
      `SELECT k.id, f.name AS file, k.generation, k.expires_at AS "expiresAt", k.revoked_at AS "revokedAt", k.revoked_reason AS "revokedReason",
              k.download_count AS "downloadCount", k.download_limit AS "downloadLimit", k.created_at AS "createdAt"
         FROM download_keys k JOIN package_files f ON f.id = k.package_file_id WHERE k.invoice_id = $1 ORDER BY k.generation DESC, f.position, f.id`,
      [id],
    ),
    pool.query(`SELECT generation, purpose, created_at AS "createdAt" FROM key_generations WHERE invoice_id = $1 ORDER BY generation`, [id]),
    pool.query(
      `SELECT id, kind, to_address AS "to", subject, status, error, attempts, created_at AS "createdAt", sent_at AS "sentAt", text_body AS "textBody"
         FROM notifications WHERE invoice_id = $1 ORDER BY created_at, id`,
      [id],
    ),
    pool.query(
      `SELECT e.id, f.name AS file, e.started_at AS "startedAt", e.remote_addr AS "remoteAddr", e.user_agent AS "userAgent", e.range_header AS range,
              e.status_code AS "statusCode", e.bytes_sent::text AS "bytesSent", e.completed, e.refused
         FROM download_events e LEFT JOIN download_keys k ON k.id = e.download_key_id LEFT JOIN package_files f ON f.id = k.package_file_id
        WHERE e.invoice_id = $1 ORDER BY e.started_at DESC, e.id DESC LIMIT 200`,
      [id],
    ),
    pool.query(
      `SELECT id, kind, email, message, key_problem AS "keyProblem", status, created_at AS "createdAt" FROM link_requests WHERE invoice_id = $1 ORDER BY created_at DESC`,
      [id],
    ),
  ]);
  return {
    invoice: { ...invoice, id },
    items: items.rows,
    messages: messages.rows.map(({ rawBody, charset, ...m }: { rawBody: Buffer; charset: string | null } & Record<string, unknown>) => ({
      ...(m as Omit<InvoiceDetail['messages'][number], 'rawBody'>),
      id: Number(m.id),
      rawBody: decodeBody(rawBody, charset),
    })),
    keys: keys.rows.map((k: InvoiceDetail['keys'][number]) => ({ ...k, id: Number(k.id) })),
    generations: generations.rows,
    emails: emails.rows.map((e: InvoiceDetail['emails'][number]) => ({ ...e, id: Number(e.id) })),
    downloads: downloads.rows.map((d: InvoiceDetail['downloads'][number]) => ({ ...d, id: Number(d.id) })),
    linkRequests: linkRequests.rows.map((r: InvoiceDetail['linkRequests'][number]) => ({ ...r, id: Number(r.id) })),
  };
}

/** PayPal's raw bytes as text for a person: UTF-8 when it is, else Latin-1 (never throws). */
function decodeBody(raw: Buffer, charset: string | null): string {
  const utf8 = raw.toString('utf8');
  if (!utf8.includes('\uFFFD') || /utf-?8/i.test(charset ?? '')) return utf8.replace(/\0/g, '\\0');
  return raw.toString('latin1').replace(/\0/g, '\\0');
}

export interface TimelineEntry {
  at: string;
  kind: string;
  detail: string;
}

/** One chronological list from the records and, when the workflow answered, its own events. */
export function invoiceTimeline(detail: InvoiceDetail, workflowEvents: TimelineEntry[] = []): TimelineEntry[] {
  const iso = (d: Date | string) => (d instanceof Date ? d : new Date(d)).toISOString();
  const i = detail.invoice;
  const entries: TimelineEntry[] = [
    { at: iso(i.createdAt), kind: 'invoice recorded', detail: `${i.number} for ${i.payerEmail}` },
    ...(i.paidAt ? [{ at: iso(i.paidAt), kind: 'paid', detail: `${i.amount} ${i.currency}` }] : []),
    ...(i.fulfilledAt ? [{ at: iso(i.fulfilledAt), kind: 'keys delivered', detail: '' }] : []),
    ...(i.closedAt ? [{ at: iso(i.closedAt), kind: 'workflow run closed', detail: `status ${i.status}` }] : []),
    ...detail.messages.map((m) => ({ at: iso(m.receivedAt), kind: `PayPal ${m.channel}`, detail: `${m.paymentStatus ?? '?'} · ${m.verification} · ${m.outcome}` })),
    ...detail.generations.map((g) => ({ at: iso(g.createdAt), kind: 'key generation', detail: `${g.generation} (${g.purpose})` })),
    ...detail.emails.map((e) => ({ at: iso(e.createdAt), kind: `e-mail ${e.kind}`, detail: `${e.status} to ${e.to}` })),
    ...workflowEvents.map((e) => ({ at: e.at, kind: `workflow: ${e.kind}`, detail: e.detail })),
  ];
  return entries.sort((a, b) => a.at.localeCompare(b.at));
}
