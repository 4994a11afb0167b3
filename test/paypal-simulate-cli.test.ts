// The simulator as its own process (what `npm start` runs) driven by `npm run simulate -- ...`
// (paypal/simulate.ts), against Keyship's intake over real HTTP; and the CLI's PayPal Checkout walk
// through a stand-in for Keyship's checkout pages that keeps their contract (POST /checkout/orders
// answers 303 to the approval link; GET /thanks?token= captures and shows the outcome).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../api/app';
import { loadConfig, simulatorClientId, simulatorClientSecret } from '../config/env';
import { devTemporal, freePort, freshDatabase, type DevTemporal, type TestDatabase } from './harness';

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
  let server: ServerType;
  let simulator: ChildProcess;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    [db, temporal] = await Promise.all([freshDatabase(), devTemporal()]);
    const simPort = await freePort();
    const late: { app?: ReturnType<typeof createApp> } = {};
    server = await new Promise((resolve) => {
      const s = serve({ fetch: (request) => (late.app ? late.app.fetch(request) : new Response('starting', { status: 503 })), port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    env = { PAYPAL_MODE: 'simulator', PAYPAL_SIMULATOR_URL: `http://127.0.0.1:${simPort}`, PUBLIC_URL: apiUrl, DATABASE_URL: db.url, TEMPORAL_TASK_QUEUE: `paypal-cli-${randomUUID()}` };
    late.app = createApp({ config: loadConfig(env), pool: db.pool, temporal: temporal.client });
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
    if (simulator && simulator.exitCode === null) {
      const exited = new Promise((resolve) => simulator.once('exit', resolve));
      simulator.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
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

  /** Keyship's checkout contract, played over the simulator's REST API: create, redirect, capture on return. */
  async function checkoutStandIn(simulatorUrl: string): Promise<{ url: string; close(): Promise<void> }> {
    const rest = async (method: string, p: string, body?: unknown, requestId?: string) => {
      const tokenAnswer = await fetch(`${simulatorUrl}/v1/oauth2/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${simulatorClientId}:${simulatorClientSecret}`).toString('base64')}` }, body: 'grant_type=client_credentials', signal: AbortSignal.timeout(5_000) });
      const { access_token } = (await tokenAnswer.json()) as { access_token: string };
      const headers: Record<string, string> = { authorization: `Bearer ${access_token}`, 'content-type': 'application/json', ...(requestId ? { 'paypal-request-id': requestId } : {}) };
      const response = await fetch(`${simulatorUrl}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      return (await response.json()) as { id: string; links: { rel: string; href: string }[]; purchase_units: { payments: { captures: { status: string }[] } }[] };
    };
    let url = '';
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const here = new URL(req.url ?? '/', url);
        const page = (status: number, title: string) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>${title}</title>`);
        void (async () => {
          if (req.method === 'POST' && here.pathname === '/checkout/orders') {
            const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
            const quantity = form.get('quantity') ?? '1';
            const total = (19.95 * Number(quantity)).toFixed(2);
            const order = await rest('POST', '/v2/checkout/orders', {
              intent: 'CAPTURE',
              purchase_units: [{ custom_id: 'cli-test', amount: { currency_code: 'USD', value: total, breakdown: { item_total: { currency_code: 'USD', value: total } } }, items: [{ name: form.get('item_number'), sku: form.get('item_number'), quantity, unit_amount: { currency_code: 'USD', value: '19.95' }, category: 'DIGITAL_GOODS' }] }],
              payment_source: { paypal: { experience_context: { return_url: `${url}/thanks`, cancel_url: `${url}/cancelled` } } },
            });
            return res.writeHead(303, { location: order.links.find((l) => l.rel === 'approve')?.href ?? '' }).end();
          }
          if (here.pathname === '/thanks') {
            const order = await rest('POST', `/v2/checkout/orders/${here.searchParams.get('token')}/capture`, undefined, `capture-${here.searchParams.get('token')}`);
            return page(200, `Thank you: ${order.purchase_units[0]?.payments.captures[0]?.status}`);
          }
          if (here.pathname === '/cancelled') return page(200, 'Checkout cancelled');
          return page(404, 'Not found');
        })().catch((error: Error) => page(500, error.message));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  test('checkout walks each approval outcome through the checkout pages; clear, refund and disputes follow the capture', async () => {
    const standIn = await checkoutStandIn(String(env.PAYPAL_SIMULATOR_URL));
    try {
      const cli = (...args: string[]) => run(['paypal/simulate.ts', ...args, ...(args[0] === 'checkout' ? ['--keyship', standIn.url] : [])], env);
      const card = await cli('checkout', 'GUIDE-1', '--qty', '2');
      assert.equal(card.code, 0, card.out);
      assert.match(card.out, /sends the buyer to http:\/\/127\.0\.0\.1:\d+\/checkoutnow\?token=\w{17}/);
      assert.match(card.out, /-> http:\/\/127\.0\.0\.1:\d+\/thanks\?token=\w{17}&PayerID=\w{13}/);
      assert.match(card.out, /Keyship answered 200: Thank you: COMPLETED/);
      assert.match(card.out, /order \w{17} COMPLETED, capture \w{17} COMPLETED 39\.90 USD/);

      const echeck = await cli('checkout', 'GUIDE-1', '--outcome', 'echeck');
      assert.match(echeck.out, /Thank you: PENDING/);
      const pendingId = /capture (\w{17}) PENDING/.exec(echeck.out)?.[1] ?? assert.fail(echeck.out);
      const cleared = await cli('clear', pendingId);
      assert.match(cleared.out, /webhook #\d+ PAYMENT\.CAPTURE\.COMPLETED: Keyship answered 200/);
      assert.doesNotMatch(cleared.out, /IPN #/, 'no IPN for an Orders v2 capture unless the seller has IPN on');

      const declined = await cli('checkout', 'GUIDE-1', '--outcome', 'declined');
      assert.match(declined.out, /Thank you: DECLINED/);
      const cancelled = await cli('checkout', 'GUIDE-1', '--outcome', 'cancel');
      assert.match(cancelled.out, /-> http:\/\/127\.0\.0\.1:\d+\/cancelled\?token=\w{17}\nKeyship answered 200: Checkout cancelled/);
      assert.match(cancelled.out, /order \w{17} CREATED, not captured/);
      const closed = await cli('checkout', 'GUIDE-1', '--outcome', 'close-tab');
      assert.match(closed.out, /The approval page answered 200: Payment approved/);
      assert.match(closed.out, /order \w{17} APPROVED, not captured/);

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
    } finally {
      await standIn.close();
    }
  });
});
