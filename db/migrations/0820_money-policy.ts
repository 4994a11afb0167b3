// Refunds and disputes per package and per invoice: each package's policy (what a partial refund
// and an open dispute do to access), each invoice's refunded and disputed amounts and its dispute,
// and the 'disputed' status (access suspended while a dispute is open) in the status CHECK.
import type { MigrationBuilder } from 'node-pg-migrate' with { 'resolution-mode': 'import' };
import { disputePolicies, disputeStates, refundPolicies } from '../../domain/money-policy';
import { invoiceStatuses, sqlList } from '../../domain/invoice-status';

// Constants of the domain modules, never input.
const words = (list: readonly string[]) => list.map((w) => `'${w}'`).join(', ');
const statusCheck = 'invoices_status_check';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    ALTER TABLE packages
      ADD COLUMN refund_policy text NOT NULL DEFAULT 'keep_on_partial' CHECK (refund_policy IN (${words(refundPolicies)})),
      ADD COLUMN dispute_policy text NOT NULL DEFAULT 'suspend' CHECK (dispute_policy IN (${words(disputePolicies)}));
    ALTER TABLE invoices
      ADD COLUMN refunded_amount numeric(12, 2) NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
      ADD COLUMN disputed_amount numeric(12, 2) NOT NULL DEFAULT 0 CHECK (disputed_amount >= 0),
      ADD COLUMN dispute_case_id text,
      ADD COLUMN dispute_state text CHECK (dispute_state IN (${words(disputeStates)}));
    CREATE INDEX invoices_open_dispute_idx ON invoices (updated_at) WHERE dispute_state = 'open';
    ALTER TABLE invoices DROP CONSTRAINT ${statusCheck};
    ALTER TABLE invoices ADD CONSTRAINT ${statusCheck} CHECK (status IN (${sqlList(invoiceStatuses)}));
  `);
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql(`
    UPDATE invoices SET status = 'fulfilled' WHERE status = 'disputed';
    ALTER TABLE invoices DROP CONSTRAINT ${statusCheck};
    ALTER TABLE invoices ADD CONSTRAINT ${statusCheck} CHECK (status IN (${sqlList(invoiceStatuses.filter((s) => s !== 'disputed'))}));
    DROP INDEX invoices_open_dispute_idx;
    ALTER TABLE invoices DROP COLUMN dispute_state, DROP COLUMN dispute_case_id, DROP COLUMN disputed_amount, DROP COLUMN refunded_amount;
    ALTER TABLE packages DROP COLUMN dispute_policy, DROP COLUMN refund_policy;
  `);
}
