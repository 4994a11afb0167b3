// One trip through every part of the harness: a real Postgres database, the Temporal dev server
// and the time-skipping server from the installed executables, and a real SMTP server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { devTemporal, freshDatabase, smtpCapture, timeSkipping, workflowBundle, type DevTemporal, type SmtpCapture, type TestDatabase } from './harness';
import { createWorker } from '../worker/create-worker';
import { createSmokeActivities } from './fixtures/smoke-activities';
import { CustomerEmail } from '../workflows/search-attributes';

const smokeWorkflows = require.resolve('./fixtures/smoke-workflow');

describe('test harness', () => {
  let db: TestDatabase;
  let smtp: SmtpCapture;
  before(async () => {
    [db, smtp] = await Promise.all([freshDatabase(), smtpCapture()]);
  });
  after(async () => {
    await Promise.all([db.close(), smtp.close()]);
  });

  test('a workflow on the dev server writes a row and sends an e-mail that is read back', async () => {
    const temporal: DevTemporal = await devTemporal();
    try {
      const taskQueue = `smoke-${randomUUID()}`;
      const worker = await createWorker({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace,
        taskQueue,
        activities: createSmokeActivities({ pool: db.pool, smtpUrl: smtp.url }),
        workflowBundle: await workflowBundle(smokeWorkflows),
      });
      const email = `Buyer.${randomUUID()}@example.com`;
      const id = await worker.runUntil(
        temporal.client.workflow.execute('smoke', {
          taskQueue,
          workflowId: `smoke-${randomUUID()}`,
          args: [email],
          typedSearchAttributes: [{ key: CustomerEmail, value: email }],
        }),
      );
      const { rows } = await db.pool.query('SELECT id, email FROM accounts');
      assert.deepEqual(rows, [{ id, email }]);
      const [mail] = await smtp.waitForMessages(1);
      assert.equal(mail!.parsed.subject, `Account ${id}`);
      assert.deepEqual(mail!.envelope.to, [email]);
      assert.match(mail!.parsed.text ?? '', /Hello from the smoke test/);
    } finally {
      await temporal.close();
    }
  });

  test('the time-skipping server skips a day-long timer and knows the search attributes', async () => {
    const env = await timeSkipping();
    try {
      const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts');
      const before = rows[0]!.n;
      const taskQueue = `smoke-${randomUUID()}`;
      const worker = await createWorker({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue,
        activities: {
          ...createSmokeActivities({ pool: db.pool, smtpUrl: smtp.url }),
        },
        workflowBundle: await workflowBundle(smokeWorkflows),
      });
      const email = `ts.${randomUUID()}@example.com`;
      const startedAt = Date.now();
      await worker.runUntil(async () => {
        await env.sleep('1 day'); // skipped, not waited
        await env.client.workflow.execute('smoke', {
          taskQueue,
          workflowId: `smoke-${randomUUID()}`,
          args: [email],
          typedSearchAttributes: [{ key: CustomerEmail, value: email }],
        });
      });
      assert.ok(Date.now() - startedAt < 30_000, 'a skipped day took real time');
      const after = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts');
      assert.equal(after.rows[0]!.n, before + 1);
      await smtp.waitForMessages(1, 10_000, (m) => m.envelope.to.includes(email.toLowerCase()) || m.envelope.to.includes(email));
    } finally {
      await env.teardown();
    }
  });
});
