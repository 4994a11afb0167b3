// The simulator keeps what it owes across a restart, as PayPal does: a delivery answered 503 before
// the restart is retried after it with the same bytes, and the restarted simulator still vouches for
// it (postback VERIFIED, the webhook's certificate still served); and its Orders v2 state as well.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startSimulator } from '../../paypal/simulator/server';

interface Received {
  path: string;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

async function receiver(): Promise<{ url: string; answer: { status: number }; received: Received[]; close(): Promise<void> }> {
  const answer = { status: 503 };
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(answer.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('deliveries owed before a restart resume after it, and still verify', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyship-sim-'));
  const keyship = await receiver();
  // The first retry comes later than the restart below, so both deliveries are still owed at it.
  const retry = { attempts: 10, firstDelayMs: 3_000, maxDelayMs: 3_000 };
  const common = { host: '127.0.0.1', ipnUrl: `${keyship.url}/paypal/ipn`, webhookUrl: `${keyship.url}/paypal/webhook`, dataDir: dir, retry };
  try {
    const first = await startSimulator({ ...common, port: 0 });
    const port = first.port;
    let paid;
    try {
      paid = await first.pay({ items: [{ itemNumber: 'KS-1', amount: '9.95' }] });
      assert.deepEqual(paid.ipns.map((i) => i.httpStatus), [503]);
      assert.deepEqual(first.waiting().map((w) => w.key), ['ipn:1', 'webhook:1'], 'the IPN and the webhook wait for another attempt');
    } finally {
      await first.close();
    }
    const ipnBytes = keyship.received.find((r) => r.path === '/paypal/ipn')!.body;
    const webhookCertUrl = String(keyship.received.find((r) => r.path === '/paypal/webhook')!.headers['paypal-cert-url']);

    keyship.answer.status = 200;
    const before = keyship.received.length;
    const second = await startSimulator({ ...common, port });
    try {
      await until('both redeliveries', () => keyship.received.slice(before).filter((r) => r.path === '/paypal/ipn').length > 0 && keyship.received.slice(before).some((r) => r.path === '/paypal/webhook'));
      await until('the deliveries to settle', () => second.waiting().length === 0);
      const again = keyship.received.slice(before).find((r) => r.path === '/paypal/ipn')!;
      assert.ok(again.body.equals(ipnBytes), 'the IPN is resent byte for byte');
      const validate = await fetch(`${second.url}/cgi-bin/webscr`, {
        method: 'POST',
        headers: { 'user-agent': 'keyship-test' },
        body: Buffer.concat([Buffer.from('cmd=_notify-validate&'), again.body]),
        signal: AbortSignal.timeout(5_000),
      });
      assert.equal(await validate.text(), 'VERIFIED');
      const cert = await fetch(webhookCertUrl, { signal: AbortSignal.timeout(5_000) });
      assert.equal(cert.status, 200, 'the webhook certificate of the first run is still served');
      const ipn = second.ledger.ipns[0]!;
      assert.deepEqual(ipn.attempts.slice(0, 1), [503]);
      assert.equal(ipn.attempts.at(-1), 200);
      assert.equal(second.ledger.payments.get(paid.txnId)?.status, 'Completed');
    } finally {
      await second.close();
    }
  } finally {
    await keyship.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pending eCheck set to clear later clears after a restart', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyship-sim-'));
  const keyship = await receiver();
  keyship.answer.status = 200;
  const common = { host: '127.0.0.1', ipnUrl: `${keyship.url}/paypal/ipn`, dataDir: dir, retry: { attempts: 3, firstDelayMs: 200, maxDelayMs: 200 } };
  try {
    const first = await startSimulator({ ...common, port: 0 });
    const paid = await first.pay({ method: 'echeck', clearAfterMs: 1_500, items: [{ itemNumber: 'KS-1', amount: '9.95' }] }).finally(() => first.close());
    const second = await startSimulator({ ...common, port: 0 });
    try {
      await until('the eCheck to clear', () => second.ledger.payments.get(paid.txnId)?.status === 'Completed');
      await until('the Completed IPN', () => keyship.received.some((r) => r.body.toString('latin1').includes('payment_status=Completed')));
    } finally {
      await second.close();
    }
  } finally {
    await keyship.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Orders v2 state survives a restart: tokens, orders, captures, refunds, disputes and kept answers', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyship-sim-'));
  const keyship = await receiver();
  keyship.answer.status = 200;
  const common = { host: '127.0.0.1', webhookUrl: `${keyship.url}/paypal/webhook`, dataDir: dir, retry: { attempts: 2, firstDelayMs: 200, maxDelayMs: 200 } };
  // node:http without an agent: a new connection each call, since a kept-alive one dies with the simulator it went to.
  const rest = (base: string, token: string) => (method: string, p: string, body?: unknown, requestId?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(requestId ? { 'paypal-request-id': requestId } : {}) };
      const request = http.request(`${base}${p}`, { method, headers, agent: false, timeout: 5_000 }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      request.on('timeout', () => request.destroy(new Error(`${method} ${p} had no answer within 5 s`)));
      request.on('error', reject);
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const orderBody = {
    intent: 'CAPTURE',
    purchase_units: [{ invoice_id: 'KS-JOURNAL-1', custom_id: 'account-1', amount: { currency_code: 'USD', value: '19.95' } }],
  };
  try {
    const first = await startSimulator({ ...common, port: 0 });
    const port = first.port;
    let token: string;
    let captured: { status: number; text: string };
    let orderId: string;
    let captureId: string;
    let waitingOrder: string;
    let disputeId: string;
    try {
      const issued = await fetch(`${first.url}/v1/oauth2/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${first.clientId}:${first.clientSecret}`).toString('base64')}` }, body: 'grant_type=client_credentials', signal: AbortSignal.timeout(5_000) });
      token = ((await issued.json()) as { access_token: string }).access_token;
      const call = rest(first.url, token);
      orderId = (JSON.parse((await call('POST', '/v2/checkout/orders', orderBody)).text) as { id: string }).id;
      await first.approveOrder(orderId, { outcome: 'card' });
      captured = await call('POST', `/v2/checkout/orders/${orderId}/capture`, undefined, 'capture-before-restart');
      captureId = (JSON.parse(captured.text) as { purchase_units: { payments: { captures: { id: string }[] } }[] }).purchase_units[0]!.payments.captures[0]!.id;
      assert.equal((await call('POST', `/v2/payments/captures/${captureId}/refund`, { amount: { currency_code: 'USD', value: '5.00' } })).status, 201);
      waitingOrder = (JSON.parse((await call('POST', '/v2/checkout/orders', { ...orderBody, purchase_units: [{ ...orderBody.purchase_units[0], invoice_id: 'KS-JOURNAL-2' }] })).text) as { id: string }).id;
      await first.approveOrder(waitingOrder, { outcome: 'echeck' });
      disputeId = (await first.openDispute(captureId)).dispute.id;
      await first.idle();
    } finally {
      await first.close();
    }

    const second = await startSimulator({ ...common, port });
    try {
      const call = rest(second.url, token);
      const order = await call('GET', `/v2/checkout/orders/${orderId}`);
      assert.equal(order.status, 200, 'the token issued before the restart still works');
      assert.equal((JSON.parse(order.text) as { status: string }).status, 'COMPLETED');
      const again = await call('POST', `/v2/checkout/orders/${orderId}/capture`, undefined, 'capture-before-restart');
      assert.deepEqual(again, captured, 'the same PayPal-Request-Id answers the first answer after the restart');
      const rest2 = await call('POST', `/v2/payments/captures/${captureId}/refund`);
      assert.equal((JSON.parse(rest2.text) as { amount: { value: string } }).amount.value, '14.95', 'the refund before the restart counts');
      const pending = await call('POST', `/v2/checkout/orders/${waitingOrder}/capture`);
      assert.equal((JSON.parse(pending.text) as { purchase_units: { payments: { captures: { status: string }[] } }[] }).purchase_units[0]!.payments.captures[0]!.status, 'PENDING', 'the approval and its outcome survive');
      const duplicate = await call('POST', '/v2/checkout/orders', orderBody);
      assert.match(duplicate.text, /DUPLICATE_INVOICE_ID/);
      const resolved = await second.resolveDispute(disputeId, { outcome: 'seller' });
      assert.equal(resolved.dispute.status, 'RESOLVED');
      second.expireTokens();
    } finally {
      await second.close();
    }
    const third = await startSimulator({ ...common, port });
    try {
      assert.equal((await rest(third.url, token)('GET', `/v2/checkout/orders/${orderId}`)).status, 401, 'expired tokens stay expired');
    } finally {
      await third.close();
    }
  } finally {
    await keyship.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
