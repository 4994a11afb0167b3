// invoices.status holds only the statuses domain/invoice-status.ts names: the constraint is built
// from that list, so the column and the code read the same vocabulary. A status added to the list
// later needs a migration of its own that replaces this constraint the same way.
import type { MigrationBuilder } from 'node-pg-migrate' with { 'resolution-mode': 'import' };
import { invoiceStatuses, sqlList } from '../../domain/invoice-status';

const constraintName = 'invoices_status_check';

export function up(pgm: MigrationBuilder): void {
  pgm.addConstraint('invoices', constraintName, { check: `status IN (${sqlList(invoiceStatuses)})` });
}

export function down(pgm: MigrationBuilder): void {
  pgm.dropConstraint('invoices', constraintName);
}
