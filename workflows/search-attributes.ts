// Custom search attributes an operator filters invoices by in the Temporal Web UI and CLI, e.g.
//   temporal workflow list --query 'CustomerEmail = "buyer@example.com"'
// The launcher and the test harness register exactly this list with the server.
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair, type TypedSearchAttributes } from '@temporalio/common';
import { emptyState, type InvoiceState } from './invoice-state';

export const CustomerEmail = defineSearchAttributeKey('CustomerEmail', SearchAttributeType.KEYWORD);
export const InvoiceNumber = defineSearchAttributeKey('InvoiceNumber', SearchAttributeType.KEYWORD);
export const ItemNumber = defineSearchAttributeKey('ItemNumber', SearchAttributeType.KEYWORD_LIST);
export const PaymentStatus = defineSearchAttributeKey('PaymentStatus', SearchAttributeType.KEYWORD);
export const InvoiceStatus = defineSearchAttributeKey('InvoiceStatus', SearchAttributeType.KEYWORD);
/** The total refunded so far (set once a refund arrived), e.g. `RefundedAmount > 0`. */
export const RefundedAmount = defineSearchAttributeKey('RefundedAmount', SearchAttributeType.DOUBLE);
/** The invoice's dispute: open, seller, buyer or other (who it was resolved for). */
export const DisputeState = defineSearchAttributeKey('DisputeState', SearchAttributeType.KEYWORD);

export const searchAttributeKeys = [CustomerEmail, InvoiceNumber, ItemNumber, PaymentStatus, InvoiceStatus, RefundedAmount, DisputeState];

/** An invoice's search attributes, in one order, the unknown ones left out. */
export function invoiceAttributePairs(s: Pick<InvoiceState, 'status' | 'customerEmail' | 'invoiceNumber' | 'itemNumbers' | 'paymentStatus' | 'refunded' | 'dispute'>): SearchAttributePair[] {
  const refunded = Number(s.refunded ?? 0);
  return [
    { key: InvoiceStatus, value: s.status },
    ...(s.customerEmail ? [{ key: CustomerEmail, value: s.customerEmail.toLowerCase() }] : []),
    ...(s.invoiceNumber ? [{ key: InvoiceNumber, value: s.invoiceNumber }] : []),
    ...(s.itemNumbers.length ? [{ key: ItemNumber, value: s.itemNumbers }] : []),
    ...(s.paymentStatus ? [{ key: PaymentStatus, value: s.paymentStatus }] : []),
    ...(refunded > 0 ? [{ key: RefundedAmount, value: refunded }] : []),
    ...(s.dispute ? [{ key: DisputeState, value: s.dispute.state }] : []),
  ];
}

/**
 * What the intake starts an invoice run with: the attributes of an invoice not known yet, which
 * the run would otherwise upsert first thing (one command, one event and one visibility write
 * less per purchase; the run compares with these before upserting).
 */
export function newInvoiceAttributes(): SearchAttributePair[] {
  return invoiceAttributePairs(emptyState(''));
}

/** The same attributes read back from a run's start (for comparing with what it would upsert). */
export function startedWithAttributes(started: TypedSearchAttributes): SearchAttributePair[] {
  return searchAttributeKeys.flatMap((key) => {
    const value: unknown = started.get(key);
    return value === undefined || (Array.isArray(value) && value.length === 0) ? [] : [{ key, value } as SearchAttributePair];
  });
}

/** The `--search-attribute Name=Type` spelling the `temporal` CLI takes. */
export function cliSearchAttributeArgs(): string[] {
  const cliType: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime' };
  return searchAttributeKeys.flatMap((k) => ['--search-attribute', `${k.name}=${cliType[k.type]}`]);
}
