// The short variant of `npm run chaos`'s purchases: 60 purchases of every kind (card, eChecks that
// clear later, refunds, duplicate IPNs, out-of-order messages, webhook first, never-clearing
// eChecks) while the worker is SIGKILLed once, the Temporal dev server is restarted on its
// database file, Postgres is restarted and SMTP refuses mail for 5 s. Afterwards every invoice is in its right final
// state, each paid one's buyer has exactly one delivery e-mail, no account is doubled, no key lacks
// an invoice, and every IPN PayPal sent is stored. The stack is its own (chaos/stack.ts): the
// shared test servers cannot be restarted under other tests.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runPurchaseChaos, shortPlan } from '../chaos/purchase-chaos';
import { kindOf } from '../chaos/purchases';
import { startChaosStack, type ChaosStack } from '../chaos/stack';
import { problemsIn } from '../chaos/verdict';

let stack: ChaosStack | undefined;

before(async () => {
  stack = await startChaosStack({ logDir: path.resolve(__dirname, '..', '.test-artifacts', 'reliability-purchases') });
});
after(async () => {
  await stack?.stop();
});

test('purchases under a worker kill, Temporal and Postgres restarts and an SMTP outage lose nothing', { timeout: 150_000 }, async () => {
  const result = await runPurchaseChaos(stack!, shortPlan);
  assert.deepEqual(result.events.filter((e) => e.error), [], 'every hurt was done');
  assert.equal(result.events.length, 4, 'a worker kill, a Temporal restart, a Postgres restart and an SMTP outage');
  assert.deepEqual(problemsIn(result.verdict), []);
  assert.ok(result.settled, 'every purchase settled before the deadline');
  const neverPaid = Array.from({ length: shortPlan.purchases }, (_, i) => kindOf(i)).filter((kind) => kind === 'pending').length;
  assert.equal(result.verdict.deliveryMails, shortPlan.purchases - neverPaid, 'one delivery e-mail per paid invoice, none for the unpaid');
  // A worker restarted while Postgres is down stops at its start (migrations first) and is started
  // again (chaos/stack.ts counts those apart); one that dies while running is a crash.
  assert.deepEqual(result.unexpectedExits, [], 'no process died by itself while running');
});

