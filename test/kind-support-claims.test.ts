// Support logins under concurrency, against real Postgres: many buyers claiming from a small pool
// at once each get a different credential or none (never one given twice), a claim all or none per
// invoice, and claiming again (an activity that runs again) takes nothing more.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshDatabase, type TestDatabase } from './harness';
import { supportCredentials } from '../kinds/support-credentials';
import { addToPool } from '../db/support-credentials';
import type { KindItem } from '../kinds/kind';

describe('support logins claimed by buyers at once', () => {
  let db: TestDatabase;
  let packageId: number;

  before(async () => {
    db = await freshDatabase();
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO packages (item_number, name, currency, price, kind, kind_settings) VALUES ('SUP-RACE', 'Race Support', 'USD', 10, 'support', '{"source":"pool"}') RETURNING id`,
    );
    packageId = rows[0]!.id;
  });
  after(async () => {
    await db?.close();
  });

  async function invoice(n: number, quantity: number): Promise<{ id: number; items: KindItem[] }> {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO invoices (number, txn_id, workflow_id, status, payer_email, currency, amount) VALUES ($1, $1, $1, 'paid', 'race@buyer.test', 'USD', 10) RETURNING id`,
      [`RACE-${n}`],
    );
    const id = rows[0]!.id;
    await db.pool.query(`INSERT INTO invoice_items (invoice_id, package_id, item_number, quantity) VALUES ($1, $2, 'SUP-RACE', $3)`, [id, packageId, quantity]);
    const item: KindItem = { packageId, itemNumber: 'SUP-RACE', packageName: 'Race Support', quantity, kind: 'support', settings: { source: 'pool' }, license: null };
    return { id, items: [item] };
  }

  const holders = async () =>
    (await db.pool.query<{ invoice_id: number; n: number }>(`SELECT invoice_id, count(*)::int AS n FROM support_credentials WHERE invoice_id IS NOT NULL GROUP BY invoice_id`)).rows;

  test('twelve buyers of one unit and two of three units at once, seven credentials: each credential goes to one buyer, and no buyer gets part of an order', async () => {
    assert.ok(await addToPool(db.pool, packageId, Array.from({ length: 7 }, (_, i) => ({ login: `race-${i}`, password: `pw-${i}` }))));
    const buyers = await Promise.all([...Array.from({ length: 12 }, (_, i) => invoice(i, 1)), invoice(100, 3), invoice(101, 3)]);
    const answers = await Promise.all(buyers.map((b) => supportCredentials.reserve!(db.pool, b.id, b.items)));
    const perInvoice = await holders();
    const { rows: units } = await db.pool.query<{ invoice_id: number; units: number[] }>(
      `SELECT invoice_id, array_agg(unit ORDER BY unit) AS units FROM support_credentials WHERE invoice_id IS NOT NULL GROUP BY invoice_id`,
    );
    for (const u of units) assert.deepEqual(u.units, Array.from({ length: u.units.length }, (_, i) => i + 1), `invoice ${u.invoice_id}: units 1..n, each once`);
    for (const h of perInvoice) {
      const b = buyers.find((x) => x.id === h.invoice_id)!;
      assert.equal(h.n, b.items[0]!.quantity, `invoice ${h.invoice_id} got all its units or none`);
    }
    const served = new Set(perInvoice.map((h) => h.invoice_id));
    buyers.forEach((b, i) => assert.equal(answers[i]!.length === 0, served.has(b.id), `buyer ${i}: no problem exactly when served`));
    // SKIP LOCKED can leave a buyer waiting while another's claim is in flight, never hand one credential to two.
    assert.ok(served.size >= 3, `at least three buyers served (got ${served.size})`);

    // The activity runs again: nothing more is taken, nothing changes hands.
    const before = (await db.pool.query(`SELECT id, invoice_id, unit FROM support_credentials ORDER BY id`)).rows;
    await Promise.all(buyers.map((b) => supportCredentials.reserve!(db.pool, b.id, b.items)));
    const again = (await db.pool.query(`SELECT id, invoice_id, unit FROM support_credentials ORDER BY id`)).rows;
    const left = before.filter((r) => r.invoice_id === null).length;
    // Only buyers still waiting may now take what is left; those served keep exactly theirs.
    for (const row of before.filter((r) => r.invoice_id !== null)) assert.deepEqual(again.find((r) => r.id === row.id), row);
    assert.ok(again.filter((r) => r.invoice_id === null).length <= left);

    // Claimed one after another, with nobody else claiming, no credential is left while a buyer it
    // fits waits: three more are uploaded first, so there is something to claim.
    assert.ok(await addToPool(db.pool, packageId, [7, 8, 9].map((i) => ({ login: `race-${i}`, password: `pw-${i}` }))));
    const waitingBefore = buyers.filter((b) => !new Set((again as { invoice_id: number | null }[]).map((r) => r.invoice_id)).has(b.id));
    assert.ok(waitingBefore.some((b) => b.items[0]!.quantity === 1), 'a one-unit buyer still waits, whom the three fit');
    for (const b of buyers) await supportCredentials.reserve!(db.pool, b.id, b.items);
    const servedAtLast = new Set((await holders()).map((h) => h.invoice_id));
    const free = (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM support_credentials WHERE invoice_id IS NULL`)).rows[0]!.n;
    for (const b of buyers.filter((x) => !servedAtLast.has(x.id))) {
      assert.ok(b.items[0]!.quantity > free, `invoice ${b.id} (${b.items[0]!.quantity} wanted) still waits while ${free} credentials are free`);
    }
    assert.equal(free, 0, 'twelve one-unit buyers take every one of the ten credentials');
  });
});
