// The admin's reads of invoices: the search form, and everything one invoice has (items, raw
// PayPal messages, keys, e-mail copies, downloads, fresh-link requests) for its detail page and
// GET /api/admin/invoices/:number, gathered from the db/ modules. Read-only: every change goes
// through the invoice workflow.
import { z } from 'zod';
import { storableText } from '../../db/storable-text';
import type { Pool } from '../../db/pool';
import { invoiceStatuses } from '../../domain/invoice-status';
import { findInvoice, invoiceItemRows, type InvoiceHead, type InvoiceItemRow } from '../../db/invoices';
import { invoiceAccessEvents, type AccessEventRow } from '../../db/access-links';
import { invoiceDownloads, invoiceKeys, keyGenerations, type DownloadEventRow, type InvoiceKeyRow, type KeyGenerationRow } from '../../db/keys';
import { invoiceEmails, type InvoiceEmailRow } from '../../db/emails';
import { invoiceLinkRequests, type InvoiceLinkRequest } from '../../db/link-requests';
import { invoiceMessages, invoiceMoneyEvents, type MoneyEventRow, type StoredMessageRow } from '../../db/paypal-messages';
import { invoiceCredentials, type InvoiceCredentialRow } from '../../db/support-credentials';

const day = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2026-01-31')
  .optional()
  .or(z.literal('').transform(() => undefined));

export const invoiceSearchSchema = z.object({
  /** Matches part of the e-mail, or the whole invoice number or PayPal transaction id. */
  q: storableText().trim().max(200).optional(),
  email: storableText().trim().max(254).optional(),
  number: storableText().trim().max(64).optional(),
  txn: storableText().trim().max(64).optional(),
  /** A package's item number. */
  item: storableText().trim().max(127).optional(),
  status: z.enum(invoiceStatuses).optional().or(z.literal('').transform(() => undefined)),
  from: day,
  to: day,
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
export type InvoiceSearch = z.output<typeof invoiceSearchSchema>;

export interface InvoiceDetail {
  invoice: InvoiceHead;
  items: InvoiceItemRow[];
  /** PayPal's raw bytes decoded for a person. */
  messages: (Omit<StoredMessageRow, 'rawBody' | 'charset'> & { rawBody: string })[];
  keys: InvoiceKeyRow[];
  generations: KeyGenerationRow[];
  emails: InvoiceEmailRow[];
  downloads: DownloadEventRow[];
  /** Requests for the invoice's access links (kinds/access.ts). */
  accessUses: AccessEventRow[];
  linkRequests: InvoiceLinkRequest[];
  /** The routed PayPal messages that moved the money: paid, refunded, reversed, disputed. */
  moneyEvents: MoneyEventRow[];
  /** The support logins the invoice got (package kind 'support'), revoked ones included. */
  supportLogins: InvoiceCredentialRow[];
}

/** The invoice with everything about it (items, messages, keys, e-mails, downloads, requests). */
export async function invoiceDetail(pool: Pool, ref: string): Promise<InvoiceDetail | undefined> {
  const invoice = await findInvoice(pool, ref);
  if (!invoice) return undefined;
  const id = Number(invoice.id);
  const [items, messages, keys, generations, emails, downloads, linkRequests, moneyEvents, supportLogins, accessUses] = await Promise.all([
    invoiceItemRows(pool, id),
    invoiceMessages(pool, id, invoice.txnId),
    invoiceKeys(pool, id),
    keyGenerations(pool, id),
    invoiceEmails(pool, id),
    invoiceDownloads(pool, id),
    invoiceLinkRequests(pool, id),
    invoiceMoneyEvents(pool, id, invoice.txnId),
    invoiceCredentials(pool, id),
    invoiceAccessEvents(pool, id),
  ]);
  return {
    invoice: { ...invoice, id },
    items,
    messages: messages.map(({ rawBody, charset, ...m }) => ({ ...m, rawBody: decodeBody(rawBody, charset) })),
    keys,
    generations,
    emails,
    downloads,
    accessUses,
    linkRequests,
    moneyEvents,
    supportLogins,
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
