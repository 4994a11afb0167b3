// The simulator keeps what it owes across a restart, as PayPal does: a delivery answered 503 before
// the restart is retried after it with the same bytes, and the restarted simulator still vouches for
// it (postback VERIFIED, the webhook's certificate still served).
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
