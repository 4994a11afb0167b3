// The simulator as its own process (what `npm start` runs) driven by `npm run simulate -- ...`
// (paypal/simulate.ts), against Keyship's intake over real HTTP; and the CLI's PayPal Checkout walk
// through Keyship's own checkout pages, with the checkout and invoice workflows on a worker.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApp } from '../api/app';
import type { Worker } from '@temporalio/worker';
import { loadConfig } from '../config/env';
import { restClientFromConfig } from '../paypal/rest/client';
import { statusLookupFromConfig } from '../paypal/status-lookup';
import { createWorker } from '../worker/create-worker';
import { seedPackages, testActivities } from './invoice-fixtures';
import { devTemporal, freePort, freshDatabase, smtpCapture, workflowBundle, type DevTemporal, type SmtpCapture, type TestDatabase } from './harness';
import { lateServer, type LateServer } from './fixtures/late-server';

const root = path.join(__dirname, '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, args, { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('npm run simulate against the simulator process', () => {
  let db: TestDatabase;
  let temporal: DevTemporal;
  let server: LateServer;
  let simulator: ChildProcess;
  let env: NodeJS.ProcessEnv;
  let smtp: SmtpCapture;
  let worker: Worker;
  let running: Promise<void>;

  before(async () => {
    [db, temporal, smtp] = await Promise.all([freshDatabase(), devTemporal(), smtpCapture()]);
    await seedPackages(db.pool);
    const simPort = await freePort();
    server = await lateServer();
    const apiUrl = server.url;
    env = { PAYPAL_MODE: 'simulator', PAYPAL_SIMULATOR_URL: `http://127.0.0.1:${simPort}`, PUBLIC_URL: apiUrl, DATABASE_URL: db.url, TEMPORAL_TASK_QUEUE: `paypal-cli-${randomUUID()}` };
    const config = loadConfig(env);
    server.serveApp(createApp({ config, pool: db.pool, temporal: temporal.client }));
    // The checkout and invoice workflows behind Keyship's checkout pages, over the simulator's REST API.
    const rest = restClientFromConfig(config.paypal, () => undefined);
    worker = await createWorker({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: testActivities(db.pool, smtp.url, statusLookupFromConfig(config.paypal, db.pool, rest), undefined, { paypalRest: rest }),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
    simulator = spawn(tsx, [path.join('paypal', 'simulator', 'main.ts')], { cwd: root, env: { ...process.env, ...env } });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      simulator.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('listening on')) resolve();
      });
      simulator.on('exit', (code) => reject(new Error(`simulator exited with ${code}: ${out}`)));
    });
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await smtp?.close();
    if (simulator && simulator.exitCode === null) {
      const exited = new Promise((resolve) => simulator.once('exit', resolve));
      simulator.kill('SIGTERM');
      await exited;
    }
    await server.close();
    await temporal?.close();
    await db?.close();
  });

  test('card, refund, duplicate and forged, each answered by Keyship', async () => {
    const card = await run(['paypal/simulate.ts', 'card', '--item', 'GUIDE-1:19.95', '--first-name', 'Zoë'], env);
    assert.equal(card.code, 0, card.out);
    assert.match(card.out, /IPN #1 Completed: Keyship answered 200/);
    assert.match(card.out, /webhook #1 PAYMENT\.CAPTURE\.COMPLETED: Keyship answered 200/);
    const txnId = /transaction (\w+)/.exec(card.out)?.[1] ?? '';
    const refund = await run(['paypal/simulate.ts', 'refund', txnId], env);
    assert.match(refund.out, /IPN #2 Refunded: Keyship answered 200/);
    const duplicate = await run(['paypal/simulate.ts', 'duplicate', '1'], env);
    assert.match(duplicate.out, /IPN #1 resend: Keyship answered 200/);
    const forged = await run(['paypal/simulate.ts', 'forged', '--item', 'GUIDE-1:19.95'], env);
    assert.match(forged.out, /forged Completed: Keyship answered 200/);
    const { rows } = await db.pool.query<{ payment_status: string; outcome: string }>("SELECT payment_status, outcome FROM paypal_messages WHERE channel = 'ipn' ORDER BY id");
    assert.deepEqual(rows.map((r) => [r.payment_status, r.outcome]), [['Completed', 'routed'], ['Refunded', 'routed'], ['Completed', 'duplicate'], ['Completed', 'rejected']]);
    const unknown = await run(['paypal/simulate.ts', 'refund', 'NOSUCHTXN'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.out, /made no payment NOSUCHTXN/);
  });

  test('checkout walks each approval outcome through the checkout pages; clear, refund and disputes follow the capture', async () => {
    {
      const cli = (...args: string[]) => run(['paypal/simulate.ts', ...args], env);
      const card = await cli('checkout', 'GUIDE-1', '--qty', '2');
      assert.equal(card.code, 0, card.out);
      assert.match(card.out, /sends the buyer to http:\/\/127\.0\.0\.1:\d+\/checkoutnow\?token=\w{17}/);
      assert.match(card.out, /-> http:\/\/127\.0\.0\.1:\d+\/thanks\?token=\w{17}&PayerID=\w{13}\n-> http:\/\/127\.0\.0\.1:\d+\/thanks\/\w{17}\nKeyship answered 200: /);
      assert.match(card.out, /order \w{17} COMPLETED, capture \w{17} COMPLETED 39\.90 USD/);

      const echeck = await cli('checkout', 'GUIDE-1', '--outcome', 'echeck');
      assert.match(echeck.out, /capture \w{17} PENDING/);
      const pendingId = /capture (\w{17}) PENDING/.exec(echeck.out)?.[1] ?? assert.fail(echeck.out);
      const cleared = await cli('clear', pendingId);
      assert.match(cleared.out, /webhook #\d+ PAYMENT\.CAPTURE\.COMPLETED: Keyship answered 200/);
      assert.doesNotMatch(cleared.out, /IPN #/, 'no IPN for an Orders v2 capture unless the seller has IPN on');

      const declined = await cli('checkout', 'GUIDE-1', '--outcome', 'declined');
      assert.match(declined.out, /Keyship answered 200: Payment not completed|Keyship answered 200: .*(not|declined|failed)/i);
      assert.match(declined.out, /capture \w{17} DECLINED/);
      const cancelled = await cli('checkout', 'GUIDE-1', '--outcome', 'cancel');
      assert.match(cancelled.out, /-> http:\/\/127\.0\.0\.1:\d+\/checkout\/cancelled\?token=\w{17}\n-> http:\/\/127\.0\.0\.1:\d+\/store\?cancelled=[^\n]+\nKeyship answered 200: Keyship demo store/);
      assert.match(cancelled.out, /order \w{17} CREATED, not captured/);
      const closed = await cli('checkout', 'GUIDE-1', '--outcome', 'close-tab');
      assert.match(closed.out, /The approval page answered 200: Payment approved/);
      // Keyship captures on the CHECKOUT.ORDER.APPROVED webhook, perhaps before the CLI looks.
      assert.match(closed.out, /order \w{17} (APPROVED, not captured|COMPLETED, capture \w{17} COMPLETED)/);

      const captureId = /capture (\w{17}) COMPLETED/.exec(card.out)?.[1] ?? assert.fail(card.out);
      const refund = await cli('refund', captureId, '--amount', '1.00');
      assert.match(refund.out, /webhook #\d+ PAYMENT\.CAPTURE\.REFUNDED: Keyship answered 200/);
      const opened = await cli('dispute', 'open', captureId, '--reason', 'UNAUTHORISED');
      const disputeId = /dispute (PP-D-\d+) OPEN/.exec(opened.out)?.[1] ?? assert.fail(opened.out);
      assert.match(opened.out, /CUSTOMER\.DISPUTE\.CREATED: Keyship answered 200/);
      assert.match((await cli('dispute', 'update', disputeId)).out, /WAITING_FOR_SELLER_RESPONSE[\s\S]*CUSTOMER\.DISPUTE\.UPDATED/);
      const resolved = await cli('dispute', 'resolve', disputeId, '--outcome', 'buyer');
      assert.match(resolved.out, /RESOLVED \(for the buyer\)[\s\S]*PAYMENT\.CAPTURE\.REVERSED[\s\S]*CUSTOMER\.DISPUTE\.RESOLVED/);
      const again = await cli('dispute', 'resolve', disputeId, '--outcome', 'seller');
      assert.equal(again.code, 2);
      assert.match(again.out, /already resolved/);
      assert.match((await cli('help')).out, /checkout \[ITEM\] \[--qty N\]/);
    }
  });
});
