// The short variant of `npm run chaos`'s floods, hostile input and key security, on one stack of
// its own (chaos/stack.ts: Postgres, Temporal, SMTP, the PayPal simulator, the real api and worker
// processes). Floods: one IPN posted 100 times at once makes one invoice and one e-mail; 150
// distinct IPNs at 50 a second lose none. Hostile input: 500 fast-check cases per public endpoint
// (IPN, webhook, thank-you page, downloads, admin login, the other keyed links, the buyer's posts)
// answer no 5xx, the api lives on, the heap stays bounded; CR/LF in a buyer's names and address
// reaches no e-mail header. Security: keys of
// 128+ bits stored only as SHA-256, lookup time independent of how much of a guess is right, the
// /d/ rate limit holds. Every admin route's 401/403 without credentials: test/admin-access.test.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runFloods, shortFloods } from '../chaos/floods';
import { runHostile, shortHostile } from '../chaos/hostile';
import { runSecurity } from '../chaos/security';
import { startChaosStack, type ChaosStack } from '../chaos/stack';

describe('the api under floods and hostile input', () => {
  let stack: ChaosStack | undefined;

  before(async () => {
    stack = await startChaosStack({ logDir: path.resolve(__dirname, '..', '.test-artifacts', 'reliability-api'), persistentTemporal: false, downloadRateLimit: 60 });
  });
  after(async () => {
    await stack?.stop();
  });

  test('the same IPN 100 times at once makes one invoice; a flood of distinct IPNs loses none', { timeout: 120_000 }, async () => {
    const result = await runFloods(stack!, shortFloods, () => undefined);
    assert.deepEqual(result.problems, []);
    assert.equal(result.sameIpn.invoices, 1);
    assert.equal(result.rate.lost, 0);
    assert.equal(result.rate.workflowsFound, result.rate.sent);
  });

  test('hostile input at every public endpoint: no 5xx, the api lives on, bounded heap, no header injection', { timeout: 120_000 }, async () => {
    const result = await runHostile(stack!, shortHostile, () => undefined);
    assert.deepEqual(result.problems, [], `seed ${result.seed}: HOSTILE_SEED=${result.seed} npx tsx test/run.ts test/reliability-api.test.ts replays these cases`);
    assert.equal(result.endpoints.length, 7);
    for (const endpoint of result.endpoints) assert.ok(endpoint.cases - endpoint.unsendable >= shortHostile.cases * 0.9, `${endpoint.endpoint}: most cases were sent`);
    assert.deepEqual(result.headerInjection.strayRecipients, []);
  });

  test('keys: 128+ bits, stored hashed, lookup time independent of a guess, rate limit holds', { timeout: 120_000 }, async () => {
    const result = await runSecurity(stack!, { timingSamples: 300 }, () => undefined);
    assert.deepEqual(result.problems, []);
    assert.ok(result.keys.minBits >= 128);
    assert.deepEqual(result.keys.rowsHoldingAKey, []);
    assert.ok(result.rateLimit.servedInBurst <= result.rateLimit.limitPerMinute + 5);
  });
});
