// An event's attendee list as CSV, the same cells as the buyers' list (api/admin/buyers-csv.ts).
import { csvCell } from './buyers-csv';
import type { Attendee } from './event-check-in';

const columns: [keyof Attendee, string][] = [
  ['name', 'name'],
  ['email', 'email'],
  ['invoice', 'invoice'],
  ['seat', 'seat'],
  ['status', 'status'],
  ['reason', 'reason'],
  ['checkedInAt', 'checked in at (UTC)'],
];

export function attendeesCsv(rows: Attendee[]): string {
  const cell = (row: Attendee, key: keyof Attendee) => (key === 'checkedInAt' && row.checkedInAt ? row.checkedInAt.slice(0, 19).replace('T', ' ') : row[key]);
  const lines = [columns.map(([, title]) => csvCell(title)).join(','), ...rows.map((row) => columns.map(([key]) => csvCell(cell(row, key))).join(','))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
