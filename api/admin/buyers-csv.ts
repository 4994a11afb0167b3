// The buyers of a package as CSV (RFC 4180, UTF-8 with a BOM so spreadsheets read accents). A cell
// that starts like a formula is prefixed with ' so a spreadsheet shows it instead of running it.
import type { BuyerRow } from '../../db/invoices';

const columns: [keyof BuyerRow, string][] = [
  ['invoice', 'invoice'],
  ['date', 'date (UTC)'],
  ['email', 'email'],
  ['firstName', 'first name'],
  ['lastName', 'last name'],
  ['quantity', 'quantity'],
  ['amount', 'amount'],
  ['currency', 'currency'],
  ['status', 'status'],
  ['txnId', 'paypal transaction'],
];

export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n']/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function buyersCsv(rows: BuyerRow[]): string {
  const lines = [columns.map(([, title]) => csvCell(title)).join(','), ...rows.map((row) => columns.map(([key]) => csvCell(row[key])).join(','))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
