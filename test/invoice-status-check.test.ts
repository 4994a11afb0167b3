// The migrated invoices.status column takes exactly the statuses domain/invoice-status.ts names:
// each of them is accepted, and anything else is refused by Postgres itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { invoiceStatuses } from '../domain/invoice-status';
import { freshDatabase, type TestDatabase } from './harness';
import { insertPurchase } from './fixtures/downloads';

describe('invoices.status check', () => {
  let db: TestDatabase;

  before(async () => {
    db = await freshDatabase();
  });
  after(() => db?.close());

  test('the constraint lists the domain statuses, no more and no fewer', async () => {
    const { rows } = await db.pool.query<{ definition: string }>(
      `SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = 'invoices'::regclass AND conname = 'invoices_status_check'`,
    );
    assert.equal(rows.length, 1, 'the migrations create invoices_status_check');
    const listed = [...rows[0]!.definition.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    assert.deepEqual([...listed].sort(), [...invoiceStatuses].sort());
  });

  test('every domain status is accepted and an unknown one is refused', async () => {
    const purchase = await insertPurchase(db.pool, '/nonexistent', { status: invoiceStatuses[0], files: [] });
    for (const status of invoiceStatuses) {
      await db.pool.query('UPDATE invoices SET status = $2 WHERE id = $1', [purchase.invoiceId, status]);
    }
    await assert.rejects(db.pool.query('UPDATE invoices SET status = $2 WHERE id = $1', [purchase.invoiceId, 'keys-expired']), (error: Error & { code?: string }) => {
      assert.equal(error.code, '23514', `a check violation, got: ${error.message}`);
      return true;
    });
  });
});
