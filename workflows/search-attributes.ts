// Custom search attributes an operator filters invoices by in the Temporal Web UI and CLI, e.g.
//   temporal workflow list --query 'CustomerEmail = "buyer@example.com"'
// The launcher and the test harness register exactly this list with the server.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CustomerEmail = defineSearchAttributeKey('CustomerEmail', SearchAttributeType.KEYWORD);
export const InvoiceNumber = defineSearchAttributeKey('InvoiceNumber', SearchAttributeType.KEYWORD);
export const ItemNumber = defineSearchAttributeKey('ItemNumber', SearchAttributeType.KEYWORD_LIST);
export const PaymentStatus = defineSearchAttributeKey('PaymentStatus', SearchAttributeType.KEYWORD);
export const InvoiceStatus = defineSearchAttributeKey('InvoiceStatus', SearchAttributeType.KEYWORD);

export const searchAttributeKeys = [CustomerEmail, InvoiceNumber, ItemNumber, PaymentStatus, InvoiceStatus];

/** The `--search-attribute Name=Type` spelling the `temporal` CLI takes. */
export function cliSearchAttributeArgs(): string[] {
  const cliType: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime' };
  return searchAttributeKeys.flatMap((k) => ['--search-attribute', `${k.name}=${cliType[k.type]}`]);
}
