// Invoice records: what a new run takes up, recording a payment, setting its status. The SQL is in
// db/invoices.ts (recording the same payment twice finds the first record).
import type { ActivityDeps } from './deps';
import * as invoices from '../db/invoices';
import type { InvoiceStatus } from '../domain/invoice-status';
import type { InvoiceDispute, InvoiceFileView, InvoiceTimings } from '../workflows/invoice-state';
import type { DisputePolicy, RefundPolicy } from '../domain/money-policy';
import type { PaymentStatus } from '../workflows/notification';
import { invoiceTerms } from './packages';

export type { RecordInvoiceInput, SetInvoiceStatusInput } from '../db/invoices';

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
  // Absent in answers recorded before refund and dispute policies.
  refundPolicy?: RefundPolicy;
  disputePolicy?: DisputePolicy;
  /** Decimal strings. */
  refunded?: string;
  disputed?: string;
  dispute?: InvoiceDispute;
}

export interface LoadInvoiceResult {
  timings: InvoiceTimings;
  invoice?: StoredInvoice;
}

/** What a new run needs to take up an invoice from Postgres (and the worker's timings). */
export async function loadInvoice(deps: ActivityDeps, input: { txnId: string }): Promise<LoadInvoiceResult> {
  const timings = deps.settings.timings;
  const row = await invoices.invoiceByTxn(deps.pool, input.txnId);
  if (!row) return { timings };
  const itemNumbers = await invoices.invoiceItemNumbers(deps.pool, row.id);
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
      itemNumbers,
      paidAt: row.paid_at?.toISOString(),
      keysExpireAt: row.keys_expire_at?.toISOString(),
      generation: row.generation ?? 0,
      keysRevoked: row.revoked,
      files: terms.files,
      keyTtlSeconds: terms.keyTtlSeconds,
      reminderHours: terms.reminderHours,
      createdAt: row.created_at.toISOString(),
      refundPolicy: terms.refundPolicy,
      disputePolicy: terms.disputePolicy,
      refunded: row.refunded_amount,
      disputed: row.disputed_amount,
      dispute: row.dispute_case_id && row.dispute_state ? { caseId: row.dispute_case_id, state: row.dispute_state } : undefined,
    },
  };
}

/** Finds or creates the invoice of a payment, records its items, and links the PayPal message (one statement). */
export async function recordInvoice(deps: ActivityDeps, input: invoices.RecordInvoiceInput): Promise<{ invoiceId: number; number: string }> {
  const invoice = await invoices.recordInvoice(deps.pool, input);
  if (!invoice) throw new Error(`recording the invoice of PayPal transaction ${input.txnId} returned no row; it is retried`);
  return { invoiceId: invoice.id, number: invoice.number };
}

/** Sets an invoice's status (idempotent: it writes the same values again on a retry). */
export async function setInvoiceStatus(deps: ActivityDeps, input: invoices.SetInvoiceStatusInput): Promise<void> {
  await invoices.setInvoiceStatus(deps.pool, input);
}
