// The simulator's PayPal Checkout (Orders v2) over real HTTP, as Keyship's REST client will meet it:
// tokens, orders, the approval page's outcomes, captures, refunds, disputes, faults and
// PayPal-Request-Id retries; every webhook it sends verifies with Keyship's own offline verifier.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { simulatorClientId, simulatorClientSecret } from '../config/env';
import { createCertFetcher } from '../paypal/cert-fetcher';
import { simulatorCertTrust } from '../paypal/cert-trust';
import { parseIpnBody } from '../paypal/ipn-form';
import { startSimulator, type Simulator, type SimulatorOptions } from '../paypal/simulator/server';
import { createOfflineWebhookVerifier } from '../paypal/webhook-verifier';
import { chromium, launchChromium, screenshotPath } from './fixtures/browser';
import { skipWithout } from './harness/programs';

interface Received {
  path: string;
  body: Buffer;
  headers: Record<string, string | undefined>;
}

/** Keyship's side: answers 200 to every IPN and webhook and keeps them. */
async function receiver() {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: Buffer.concat(chunks), headers: req.headers as Record<string, string | undefined> });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function until<T>(what: string, find: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what} did not arrive within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- PayPal's JSON, read field by field in the assertions.
type Json = any;

interface Answer {
  status: number;
  json: Json;
  headers: Headers;
}

function client(sim: Simulator) {
  let token = '';
  async function getToken(id = sim.clientId, secret = sim.clientSecret): Promise<Answer> {
    const response = await fetch(`${sim.url}/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(5_000),
    });
    const json = (await response.json()) as Json;
    if (response.ok) token = json.access_token as string;
    return { status: response.status, json, headers: response.headers };
  }
  async function call(method: string, path: string, options: { body?: unknown; requestId?: string; prefer?: string; bearer?: string } = {}): Promise<Answer> {
    if (!token && options.bearer === undefined) await getToken();
    const headers: Record<string, string> = { authorization: `Bearer ${options.bearer ?? token}`, 'content-type': 'application/json' };
    if (options.requestId) headers['paypal-request-id'] = options.requestId;
    if (options.prefer) headers.prefer = options.prefer;
    const response = await fetch(`${sim.url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: AbortSignal.timeout(10_000) });
    return { status: response.status, json: (await response.json()) as Json, headers: response.headers };
  }
  return { getToken, call };
}

let invoiceCounter = 0;
/** A create-order body as Keyship sends it: one digital item, its breakdown, our ids, return and cancel URLs. */
function orderBody(options: { price?: string; quantity?: number; itemTotal?: string; total?: string; invoiceId?: string } = {}) {
  const price = options.price ?? '19.95';
  const quantity = options.quantity ?? 1;
  const itemTotal = options.itemTotal ?? (Number(price) * quantity).toFixed(2);
  return {
    intent: 'CAPTURE',
    purchase_units: [
      {
        reference_id: 'default',
        custom_id: 'account-42',
        invoice_id: options.invoiceId ?? `KS-TEST-${process.pid}-${++invoiceCounter}`,
        amount: { currency_code: 'USD', value: options.total ?? itemTotal, breakdown: { item_total: { currency_code: 'USD', value: itemTotal } } },
        items: [{ name: 'Café guide', sku: 'GUIDE-1', quantity: String(quantity), unit_amount: { currency_code: 'USD', value: price }, category: 'DIGITAL_GOODS' }],
      },
    ],
    payment_source: { paypal: { experience_context: { return_url: 'http://keyship.test/thanks', cancel_url: 'http://keyship.test/checkout/cancelled', shipping_preference: 'NO_SHIPPING', user_action: 'PAY_NOW' } } },
  };
}

const issues = (answer: Answer) => (answer.json.details as { issue: string }[] | undefined)?.map((d) => d.issue);
const events = (received: Received[]) => received.filter((r) => r.path === '/paypal/webhook').map((r) => ({ ...r, event: JSON.parse(r.body.toString('utf8')) as Json }));

describe('the simulator speaks PayPal Checkout (Orders v2)', () => {
  let keyship: Awaited<ReturnType<typeof receiver>>;
  let sim: Simulator;
  let api: ReturnType<typeof client>;
  const started: Simulator[] = [];

  async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
    const s = await startSimulator({ port: 0, ipnUrl: `${keyship.url}/paypal/ipn`, webhookUrl: `${keyship.url}/paypal/webhook`, retry: { attempts: 2, firstDelayMs: 200, maxDelayMs: 200 }, ...options });
    started.push(s);
    return s;
  }

  before(async () => {
    keyship = await receiver();
    sim = await simulator();
    api = client(sim);
  });

  after(async () => {
    for (const s of started) await s.close();
    await keyship?.close();
  });

  /** Creates an order and approves it through the HTML approval page's chosen button, as a browser without JavaScript would. */
  async function approvedThroughPage(action: 'card' | 'echeck' | 'declined' | 'close-tab', body = orderBody()) {
    const created = await api.call('POST', '/v2/checkout/orders', { body });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const approve = (created.json.links as { rel: string; href: string }[]).find((l) => l.rel === 'approve')?.href ?? '';
    const page = await fetch(approve, { signal: AbortSignal.timeout(5_000) });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(html, /Café guide/);
    assert.match(html, /value="buyer@example.com"/);
    const action_ = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
    const form = new URLSearchParams({ email: 'zoe@example.com', given_name: 'Zoë', surname: 'Müller', action });
    const submitted = await fetch(new URL(action_.replace(/&amp;/g, '&'), sim.url), { method: 'POST', body: form, redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    return { orderId: created.json.id as string, submitted };
  }

  test('tokens: PayPal\'s token answer, refused credentials, unknown and expired tokens', async () => {
    const wrong = await api.getToken('someone', 'guess');
    assert.deepEqual([wrong.status, wrong.json], [401, { error: 'invalid_client', error_description: 'Client Authentication failed' }]);
    const good = await api.getToken();
    assert.equal(good.status, 200);
    assert.deepEqual(Object.keys(good.json).sort(), ['access_token', 'app_id', 'expires_in', 'nonce', 'scope', 'token_type']);
    assert.deepEqual([good.json.token_type, good.json.expires_in, sim.clientId, sim.clientSecret], ['Bearer', 32400, simulatorClientId, simulatorClientSecret]);
    const unknown = await api.call('GET', '/v2/checkout/orders/NOSUCHORDER00000', { bearer: 'A21AAnotatoken' });
    assert.deepEqual([unknown.status, unknown.json], [401, { error: 'invalid_token', error_description: 'Token signature verification failed' }]);
    assert.equal((await api.call('GET', '/v2/checkout/orders/NOSUCHORDER00000')).status, 404, 'a good token reaches the resource');
    const verify = await fetch(`${sim.url}/v1/notifications/verify-webhook-signature`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5_000) });
    assert.equal(verify.status, 401, 'the online verification endpoint wants a token too');
    const noHeader = await fetch(`${sim.url}/v2/checkout/orders/NOSUCHORDER00000`, { signal: AbortSignal.timeout(5_000) });
    assert.deepEqual([noHeader.status, ((await noHeader.json()) as Json).name], [401, 'AUTHENTICATION_FAILURE']);
    sim.expireTokens();
    const expired = await api.call('GET', '/v2/checkout/orders/NOSUCHORDER00000');
    assert.deepEqual([expired.status, expired.json.error], [401, 'invalid_token']);
    await api.getToken();

    const short = await simulator({ tokenLifetimeSeconds: 1 });
    const shortApi = client(short);
    assert.equal((await shortApi.getToken()).json.expires_in, 1);
    assert.equal((await shortApi.call('GET', '/v2/checkout/orders/NOSUCHORDER00000')).status, 404);
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal((await shortApi.call('GET', '/v2/checkout/orders/NOSUCHORDER00000')).status, 401, 'a token past its expires_in is refused');
  });

  test('create judges the body as PayPal does, with its error bodies', async () => {
    const missing = await api.call('POST', '/v2/checkout/orders', { body: { purchase_units: orderBody().purchase_units } });
    assert.deepEqual([missing.status, missing.json.name, issues(missing), missing.json.details[0].field], [400, 'INVALID_REQUEST', ['MISSING_REQUIRED_PARAMETER'], '/intent']);
    assert.match(missing.json.debug_id, /^[0-9a-f]{13}$/);
    const itemTotal = await api.call('POST', '/v2/checkout/orders', { body: orderBody({ itemTotal: '10.00', total: '10.00' }) });
    assert.deepEqual([itemTotal.status, itemTotal.json.name, issues(itemTotal)], [422, 'UNPROCESSABLE_ENTITY', ['ITEM_TOTAL_MISMATCH']]);
    assert.equal(itemTotal.json.details[0].field, "/purchase_units/@reference_id=='default'/amount/breakdown/item_total/value");
    const amount = await api.call('POST', '/v2/checkout/orders', { body: orderBody({ quantity: 2, total: '19.95' }) });
    assert.deepEqual([amount.status, issues(amount)], [422, ['AMOUNT_MISMATCH']]);
    const first = await api.call('POST', '/v2/checkout/orders', { body: orderBody({ invoiceId: `KS-DUP-${process.pid}` }) });
    assert.equal(first.status, 201);
    const again = await api.call('POST', '/v2/checkout/orders', { body: orderBody({ invoiceId: `KS-DUP-${process.pid}` }) });
    assert.deepEqual([again.status, issues(again)], [422, ['DUPLICATE_INVOICE_ID']]);
    const unknown = await api.call('GET', '/v2/checkout/orders/NOSUCHORDER00000');
    assert.deepEqual([unknown.status, unknown.json.name, issues(unknown)], [404, 'RESOURCE_NOT_FOUND', ['INVALID_RESOURCE_ID']]);
  });

  test('create, approve on the page, capture: the happy path and its webhooks', async () => {
    const body = orderBody({ quantity: 2 });
    const created = await api.call('POST', '/v2/checkout/orders', { body, requestId: 'create-happy' });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.json).sort(), ['id', 'links', 'status'], 'minimal answer without Prefer');
    assert.match(created.json.id, /^[0-9A-Z]{17}$/);
    const rels = (created.json.links as { rel: string; href: string }[]).map((l) => l.rel);
    assert.deepEqual(rels, ['self', 'approve', 'update', 'capture']);
    const orderId = created.json.id as string;
    const notApproved = await api.call('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: 'too-early' });
    assert.deepEqual([notApproved.status, issues(notApproved)], [422, ['ORDER_NOT_APPROVED']]);

    const page = await fetch(`${sim.url}/checkoutnow?token=${orderId}`, { signal: AbortSignal.timeout(5_000) });
    assert.match(await page.text(), /<th id="total">39.90 USD<\/th>/);
    const submitted = await fetch(`${sim.url}/checkoutnow?token=${orderId}`, { method: 'POST', body: new URLSearchParams({ email: 'zoe@example.com', given_name: 'Zoë', surname: 'Müller', action: 'card' }), redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    assert.equal(submitted.status, 303);
    const back = new URL(submitted.headers.get('location') ?? '');
    assert.equal(`${back.origin}${back.pathname}`, 'http://keyship.test/thanks');
    assert.equal(back.searchParams.get('token'), orderId);
    assert.match(back.searchParams.get('PayerID') ?? '', /^[2-9A-HJ-NP-Z]{13}$/);
    const approvedHook = await until('CHECKOUT.ORDER.APPROVED', () => events(keyship.received).find((e) => e.event.event_type === 'CHECKOUT.ORDER.APPROVED' && e.event.resource.id === orderId));
    assert.equal(approvedHook.event.resource.status, 'APPROVED');
    assert.equal(approvedHook.event.resource.payer.email_address, 'zoe@example.com');

    const shown = await api.call('GET', `/v2/checkout/orders/${orderId}`);
    assert.deepEqual([shown.json.status, shown.json.payment_source.paypal.account_id, shown.json.payer.name.given_name], ['APPROVED', back.searchParams.get('PayerID'), 'Zoë']);

    const captured = await api.call('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: 'capture-happy' });
    assert.equal(captured.status, 201);
    assert.equal(captured.json.status, 'COMPLETED');
    assert.deepEqual(captured.json.payment_source.paypal.name, { given_name: 'Zoë', surname: 'Müller' });
    const capture = captured.json.purchase_units[0].payments.captures[0];
    assert.match(capture.id, /^[0-9A-Z]{17}$/);
    assert.deepEqual([capture.status, capture.amount, capture.final_capture, capture.custom_id, capture.seller_protection.status], ['COMPLETED', { currency_code: 'USD', value: '39.90' }, true, 'account-42', 'ELIGIBLE']);
    assert.equal(capture.seller_receivable_breakdown.gross_amount.value, '39.90');
    assert.deepEqual(
      (capture.links as { rel: string; href: string }[]).map((l) => [l.rel, l.href.replace(sim.url, '')]),
      [['self', `/v2/payments/captures/${capture.id}`], ['refund', `/v2/payments/captures/${capture.id}/refund`], ['up', `/v2/checkout/orders/${orderId}`]],
    );
    const hook = await until('PAYMENT.CAPTURE.COMPLETED', () => events(keyship.received).find((e) => e.event.event_type === 'PAYMENT.CAPTURE.COMPLETED' && e.event.resource.id === capture.id));
    assert.equal(hook.event.resource.supplementary_data.related_ids.order_id, orderId);
    assert.deepEqual([hook.event.resource.custom_id, hook.event.resource.invoice_id, hook.event.resource_type], ['account-42', body.purchase_units[0]!.invoice_id, 'capture']);

    const second = await api.call('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: 'capture-happy-2' });
    assert.deepEqual([second.status, issues(second)], [422, ['ORDER_ALREADY_CAPTURED']]);
    const full = await api.call('GET', `/v2/checkout/orders/${orderId}`);
    assert.deepEqual([full.json.status, full.json.purchase_units[0].payments.captures[0].id, full.json.purchase_units[0].items[0].sku], ['COMPLETED', capture.id, 'GUIDE-1']);
    const alone = await api.call('GET', `/v2/payments/captures/${capture.id}`);
    assert.deepEqual([alone.status, alone.json.status, alone.json.supplementary_data.related_ids.order_id], [200, 'COMPLETED', orderId]);
  });

  test('PayPal-Request-Id: the same create or capture again answers the first answer, and captures once', async () => {
    const body = orderBody();
    const one = await api.call('POST', '/v2/checkout/orders', { body, requestId: 'create-twice', prefer: 'return=representation' });
    const two = await api.call('POST', '/v2/checkout/orders', { body, requestId: 'create-twice', prefer: 'return=representation' });
    assert.deepEqual([one.status, two.status], [201, 201]);
    assert.deepEqual(two.json, one.json);
    assert.equal(one.json.purchase_units[0].invoice_id, body.purchase_units[0]!.invoice_id, 'the full order with Prefer: return=representation');
    const orderId = one.json.id as string;
    await sim.approveOrder(orderId, { outcome: 'card' });
    const [a, b] = await Promise.all([
      api.call('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: 'capture-twice' }),
      api.call('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: 'capture-twice' }),
    ]);
    assert.deepEqual([a.status, b.status], [201, 201]);
    assert.deepEqual(b.json, a.json);
    const captureId = a.json.purchase_units[0].payments.captures[0].id as string;
    assert.equal([...sim.ledger.payments.values()].filter((p) => p.orderId === orderId).length, 1, 'one capture');
    await until('the capture webhook', () => events(keyship.received).find((e) => e.event.resource.id === captureId));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(events(keyship.received).filter((e) => e.event.event_type === 'PAYMENT.CAPTURE.COMPLETED' && e.event.resource.id === captureId).length, 1, 'one capture webhook');
  });

  test('each outcome of the approval page: eCheck pending until cleared, declined, cancel, close the tab', async () => {
    const echeck = await approvedThroughPage('echeck');
    assert.equal(echeck.submitted.status, 303);
    const pending = await api.call('POST', `/v2/checkout/orders/${echeck.orderId}/capture`, { requestId: `c-${echeck.orderId}` });
    const pendingCapture = pending.json.purchase_units[0].payments.captures[0];
    assert.deepEqual([pending.json.status, pendingCapture.status, pendingCapture.status_details], ['COMPLETED', 'PENDING', { reason: 'ECHECK' }]);
    await until('PAYMENT.CAPTURE.PENDING', () => events(keyship.received).find((e) => e.event.event_type === 'PAYMENT.CAPTURE.PENDING' && e.event.resource.id === pendingCapture.id));
    const cleared = await sim.clear(pendingCapture.id);
    assert.deepEqual(cleared.webhooks.map((w) => w.type), ['PAYMENT.CAPTURE.COMPLETED']);
    assert.deepEqual(cleared.ipns, [], 'no IPN for an Orders v2 capture unless ordersIpn');
    assert.equal((await api.call('GET', `/v2/payments/captures/${pendingCapture.id}`)).json.status, 'COMPLETED');

    const declined = await approvedThroughPage('declined');
    const refused = await api.call('POST', `/v2/checkout/orders/${declined.orderId}/capture`, { requestId: `c-${declined.orderId}` });
    const declinedCapture = refused.json.purchase_units[0].payments.captures[0];
    assert.deepEqual([refused.status, refused.json.status, declinedCapture.status], [201, 'COMPLETED', 'DECLINED']);
    assert.ok(!(declinedCapture.links as { rel: string }[]).some((l) => l.rel === 'refund'), 'a declined capture cannot be refunded');
    await until('PAYMENT.CAPTURE.DECLINED', () => events(keyship.received).find((e) => e.event.event_type === 'PAYMENT.CAPTURE.DECLINED' && e.event.resource.id === declinedCapture.id));

    const created = await api.call('POST', '/v2/checkout/orders', { body: orderBody() });
    const cancel = await fetch(`${sim.url}/checkoutnow?token=${created.json.id}`, { method: 'POST', body: new URLSearchParams({ action: 'cancel' }), redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    assert.equal(cancel.status, 303);
    assert.equal(cancel.headers.get('location'), `http://keyship.test/checkout/cancelled?token=${created.json.id}`);
    assert.equal((await api.call('GET', `/v2/checkout/orders/${created.json.id}`)).json.status, 'CREATED', 'a cancelled order simply stays unapproved');

    const closed = await approvedThroughPage('close-tab');
    assert.equal(closed.submitted.status, 200);
    assert.match(await closed.submitted.text(), /You can close this tab/);
    assert.equal((await api.call('GET', `/v2/checkout/orders/${closed.orderId}`)).json.status, 'APPROVED');
    await until('CHECKOUT.ORDER.APPROVED of the closed tab', () => events(keyship.received).find((e) => e.event.event_type === 'CHECKOUT.ORDER.APPROVED' && e.event.resource.id === closed.orderId));

    const viaControl = await api.call('POST', '/v2/checkout/orders', { body: orderBody() });
    const approved = await fetch(`${sim.url}/sim/orders/${viaControl.json.id}/approve`, { method: 'POST', body: JSON.stringify({ outcome: 'echeck', closeTab: true }), signal: AbortSignal.timeout(5_000) });
    const approvedJson = (await approved.json()) as Json;
    assert.deepEqual([approved.status, approvedJson.order.status, approvedJson.redirect, approvedJson.report.webhooks[0].type], [200, 'APPROVED', undefined, 'CHECKOUT.ORDER.APPROVED']);
  });

  test('refunds: partial, then the rest, then nothing left; too much is refused', async () => {
    const { orderId } = await approvedThroughPage('card');
    const captured = await api.call('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: `c-${orderId}` });
    const captureId = captured.json.purchase_units[0].payments.captures[0].id as string;
    const partial = await api.call('POST', `/v2/payments/captures/${captureId}/refund`, { body: { amount: { currency_code: 'USD', value: '5.00' } }, requestId: `r1-${captureId}` });
    assert.deepEqual([partial.status, partial.json.status, partial.json.amount], [201, 'COMPLETED', { currency_code: 'USD', value: '5.00' }]);
    assert.deepEqual((partial.json.links as { rel: string; href: string }[]).map((l) => [l.rel, l.href.replace(sim.url, '')]), [['self', `/v2/payments/refunds/${partial.json.id}`], ['up', `/v2/payments/captures/${captureId}`]]);
    const replay = await api.call('POST', `/v2/payments/captures/${captureId}/refund`, { body: { amount: { currency_code: 'USD', value: '5.00' } }, requestId: `r1-${captureId}` });
    assert.deepEqual([replay.status, replay.json.id], [201, partial.json.id], 'the same request id refunds once');
    assert.equal((await api.call('GET', `/v2/payments/captures/${captureId}`)).json.status, 'PARTIALLY_REFUNDED');
    const tooMuch = await api.call('POST', `/v2/payments/captures/${captureId}/refund`, { body: { amount: { currency_code: 'USD', value: '15.00' } }, requestId: `r2-${captureId}` });
    assert.deepEqual([tooMuch.status, issues(tooMuch)], [422, ['REFUND_AMOUNT_EXCEEDED']]);
    const rest = await api.call('POST', `/v2/payments/captures/${captureId}/refund`, { requestId: `r3-${captureId}` });
    assert.deepEqual([rest.status, rest.json.amount.value, rest.json.seller_payable_breakdown.total_refunded_amount.value], [201, '14.95', '19.95']);
    assert.equal((await api.call('GET', `/v2/payments/captures/${captureId}`)).json.status, 'REFUNDED');
    const nothing = await api.call('POST', `/v2/payments/captures/${captureId}/refund`, { requestId: `r4-${captureId}` });
    assert.deepEqual([nothing.status, issues(nothing)], [422, ['CAPTURE_FULLY_REFUNDED']]);
    const hooks = await until('both PAYMENT.CAPTURE.REFUNDED', () => {
      const found = events(keyship.received).filter((e) => e.event.event_type === 'PAYMENT.CAPTURE.REFUNDED' && e.event.resource.links.some((l: { rel: string; href: string }) => l.rel === 'up' && l.href.endsWith(captureId)));
      return found.length === 2 ? found : undefined;
    });
    assert.deepEqual(hooks.map((h) => h.event.resource.amount.value).sort(), ['14.95', '5.00']);
    const shown = await api.call('GET', `/v2/payments/refunds/${partial.json.id}`);
    assert.deepEqual([shown.status, shown.json.amount.value], [200, '5.00']);
  });

  test('reverse on an Orders v2 capture: PAYMENT.CAPTURE.REVERSED with the refund resource', async () => {
    const { orderId } = await approvedThroughPage('card');
    const captured = await api.call('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: `c-${orderId}` });
    const captureId = captured.json.purchase_units[0].payments.captures[0].id as string;
    const reversed = await sim.reverse(captureId);
    assert.deepEqual(reversed.webhooks.map((w) => w.type), ['PAYMENT.CAPTURE.REVERSED']);
    const hook = events(keyship.received).find((e) => e.event.event_type === 'PAYMENT.CAPTURE.REVERSED' && e.event.resource.id === reversed.txnId);
    assert.equal(hook?.event.resource.note_to_payer, 'Payment reversed');
    assert.equal(hook?.event.resource.amount.value, '19.95');
    assert.equal((await api.call('GET', `/v2/payments/captures/${captureId}`)).json.status, 'REFUNDED');
  });

  test('disputes: opened, updated, resolved for the buyer (with a reversal) and for the seller, also on an IPN payment', async () => {
    const { orderId } = await approvedThroughPage('card');
    const captured = await api.call('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: `c-${orderId}` });
    const captureId = captured.json.purchase_units[0].payments.captures[0].id as string;
    const opened = await sim.openDispute(captureId, { reason: 'UNAUTHORISED' });
    assert.match(opened.dispute.id, /^PP-D-\d+$/);
    assert.deepEqual(opened.report.webhooks.map((w) => w.type), ['CUSTOMER.DISPUTE.CREATED']);
    const created = events(keyship.received).find((e) => e.event.event_type === 'CUSTOMER.DISPUTE.CREATED' && e.event.resource.dispute_id === opened.dispute.id);
    assert.deepEqual([created?.event.resource.disputed_transactions[0].seller_transaction_id, created?.event.resource.reason, created?.event.resource.status], [captureId, 'UNAUTHORISED', 'OPEN']);
    const updated = await sim.updateDispute(opened.dispute.id);
    assert.deepEqual([updated.dispute.status, updated.report.webhooks[0]?.type], ['WAITING_FOR_SELLER_RESPONSE', 'CUSTOMER.DISPUTE.UPDATED']);
    const resolved = await sim.resolveDispute(opened.dispute.id, { outcome: 'buyer' });
    assert.deepEqual(resolved.report.webhooks.map((w) => w.type), ['PAYMENT.CAPTURE.REVERSED', 'CUSTOMER.DISPUTE.RESOLVED']);
    const done = events(keyship.received).find((e) => e.event.event_type === 'CUSTOMER.DISPUTE.RESOLVED' && e.event.resource.dispute_id === opened.dispute.id);
    assert.deepEqual([done?.event.resource.status, done?.event.resource.dispute_outcome.outcome_code], ['RESOLVED', 'RESOLVED_BUYER_FAVOUR']);
    const shown = await api.call('GET', `/v1/customer/disputes/${opened.dispute.id}`);
    assert.deepEqual([shown.status, shown.json.dispute_outcome.outcome_code], [200, 'RESOLVED_BUYER_FAVOUR']);

    const ipnPayment = await sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }] });
    const viaHttp = await fetch(`${sim.url}/sim/captures/${ipnPayment.txnId}/disputes`, { method: 'POST', body: JSON.stringify({ amount: '10.00' }), signal: AbortSignal.timeout(5_000) });
    const opened2 = (await viaHttp.json()) as Json;
    assert.deepEqual([viaHttp.status, opened2.dispute.amount.value, opened2.dispute.captureId], [200, '10.00', ipnPayment.txnId]);
    const seller = await fetch(`${sim.url}/sim/disputes/${opened2.dispute.id}/resolve`, { method: 'POST', body: JSON.stringify({ outcome: 'seller' }), signal: AbortSignal.timeout(5_000) });
    const sellerJson = (await seller.json()) as Json;
    assert.deepEqual(sellerJson.report.webhooks.map((w: { type: string }) => w.type), ['CUSTOMER.DISPUTE.RESOLVED']);
    assert.equal(sim.ledger.payments.get(ipnPayment.txnId)?.status, 'Completed', 'the seller keeps the money');
  });

  test('faults: a 500 after the capture, then the same PayPal-Request-Id gets the real 201', async () => {
    const { orderId } = await approvedThroughPage('card');
    sim.failNext({ method: 'POST', pathPattern: '/capture$', status: 500, after: true });
    const failed = await api.call('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: 'retry-me' });
    assert.deepEqual([failed.status, failed.json.name, failed.json.message], [500, 'INTERNAL_SERVER_ERROR', 'An internal server error occurred.']);
    assert.match(failed.json.debug_id, /^[0-9a-f]{13}$/);
    const retried = await api.call('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: 'retry-me' });
    assert.deepEqual([retried.status, retried.json.status], [201, 'COMPLETED']);
    assert.equal([...sim.ledger.payments.values()].filter((p) => p.orderId === orderId).length, 1, 'captured once');

    const control = await fetch(`${sim.url}/sim/faults`, { method: 'POST', body: JSON.stringify({ method: 'POST', pathPattern: '^/v2/checkout/orders$', status: 503, times: 2 }), signal: AbortSignal.timeout(5_000) });
    assert.equal(control.status, 200);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await api.call('POST', '/v2/checkout/orders', { body: orderBody(), requestId: 'create-after-503' })).status);
    assert.deepEqual(statuses, [503, 503, 201], 'a fault before the work leaves nothing done');
  });

  test('an order nobody approved within its lifetime can no longer be approved or captured', async () => {
    const brief = await simulator({ orderLifetimeSeconds: 1 });
    const briefApi = client(brief);
    const created = await briefApi.call('POST', '/v2/checkout/orders', { body: orderBody() });
    await new Promise((r) => setTimeout(r, 1_100));
    const page = await fetch(`${brief.url}/checkoutnow?token=${created.json.id}`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(page.status, 410);
    await assert.rejects(brief.approveOrder(created.json.id as string), /ORDER_EXPIRED/);
    const capture = await briefApi.call('POST', `/v2/checkout/orders/${created.json.id}/capture`);
    assert.deepEqual([capture.status, issues(capture)], [422, ['ORDER_NOT_APPROVED']]);
  });

  test('with ordersIpn, a capture also sends its IPN, which the postback verifies', async () => {
    const both = await simulator({ ordersIpn: true });
    const bothApi = client(both);
    const body = orderBody({ quantity: 3 });
    const created = await bothApi.call('POST', '/v2/checkout/orders', { body });
    await both.approveOrder(created.json.id as string, { payer: { email: 'zoe@example.com', givenName: 'Zoë', surname: 'Müller' } });
    const captured = await bothApi.call('POST', `/v2/checkout/orders/${created.json.id}/capture`);
    const captureId = captured.json.purchase_units[0].payments.captures[0].id as string;
    const ipn = await until('the capture IPN', () => keyship.received.find((r) => r.path === '/paypal/ipn' && r.body.toString('latin1').includes(`txn_id=${captureId}`)));
    const fields = parseIpnBody(ipn.body).fields;
    assert.deepEqual(
      [fields.payment_status, fields.custom, fields.invoice, fields.item_number1, fields.quantity1, fields.mc_gross, fields.first_name, fields.payer_email, fields.txn_type],
      ['Completed', 'account-42', body.purchase_units[0]!.invoice_id, 'GUIDE-1', '3', '59.85', 'Zoë', 'zoe@example.com', 'express_checkout'],
    );
    const postback = await fetch(`${both.url}/cgi-bin/webscr`, { method: 'POST', headers: { 'user-agent': 'keyship-test' }, body: Buffer.concat([Buffer.from('cmd=_notify-validate&'), ipn.body]), signal: AbortSignal.timeout(5_000) });
    assert.equal(await postback.text(), 'VERIFIED');
  });

  test('the approval page in Chromium without JavaScript: the order shown, the buyer prefilled, a button returns to the store', { skip: skipWithout(chromium) }, async () => {
    const body = orderBody({ quantity: 2 });
    body.payment_source.paypal.experience_context.return_url = `${keyship.url}/thanks`;
    const created = await api.call('POST', '/v2/checkout/orders', { body });
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto((created.json.links as { rel: string; href: string }[]).find((l) => l.rel === 'approve')?.href ?? '', { timeout: 10_000 });
      assert.equal(await page.locator('#total').textContent(), '39.90 USD');
      assert.equal(await page.locator('input[name=email]').inputValue(), 'buyer@example.com');
      assert.equal(await page.locator('input[name=given_name]').inputValue(), 'Zoë');
      await page.screenshot({ path: screenshotPath('simulator-approval-page'), fullPage: true });
      await page.locator('input[name=email]').fill('browser@example.com');
      await Promise.all([page.waitForURL(/\/thanks\?/, { timeout: 10_000 }), page.getByRole('button', { name: 'Pay by eCheck' }).click()]);
      const back = new URL(page.url());
      assert.deepEqual([back.pathname, back.searchParams.get('token')], ['/thanks', created.json.id]);
      const shown = await api.call('GET', `/v2/checkout/orders/${created.json.id}`);
      assert.deepEqual([shown.json.status, shown.json.payer.email_address, shown.json.payer.payer_id], ['APPROVED', 'browser@example.com', back.searchParams.get('PayerID')]);
      const captured = await api.call('POST', `/v2/checkout/orders/${created.json.id}/capture`);
      assert.equal(captured.json.purchase_units[0].payments.captures[0].status, 'PENDING', 'the eCheck button chose a pending capture');
    } finally {
      await browser.close();
    }
  });

  test('every webhook sent verifies with Keyship\'s offline verifier and the simulator\'s certificate', async () => {
    await sim.idle();
    const hooks = keyship.received.filter((r) => r.path === '/paypal/webhook');
    const types = new Set(hooks.map((h) => (JSON.parse(h.body.toString('utf8')) as Json).event_type as string));
    for (const type of ['CHECKOUT.ORDER.APPROVED', 'PAYMENT.CAPTURE.COMPLETED', 'PAYMENT.CAPTURE.PENDING', 'PAYMENT.CAPTURE.DECLINED', 'PAYMENT.CAPTURE.REFUNDED', 'PAYMENT.CAPTURE.REVERSED', 'CUSTOMER.DISPUTE.CREATED', 'CUSTOMER.DISPUTE.UPDATED', 'CUSTOMER.DISPUTE.RESOLVED']) {
      assert.ok(types.has(type), `a ${type} webhook was sent`);
    }
    // Every webhook was sent by one of the simulators and verifies with its certificate; a tampered copy does not.
    let verified = 0;
    let tamperedRefused = 0;
    for (const s of started) {
      const trust = simulatorCertTrust(s.url);
      const verifier = createOfflineWebhookVerifier({ webhookId: 'WEBHOOK_ID', trust, certs: createCertFetcher({ refuseUrl: trust.refuseUrl }) });
      const mine = hooks.filter((h) => h.headers['paypal-cert-url']?.startsWith(s.url));
      for (const hook of mine) assert.deepEqual(await verifier.verify({ headers: hook.headers, raw: hook.body }), { ok: true });
      verified += mine.length;
      const tampered = mine[0];
      if (!tampered) continue;
      assert.equal((await verifier.verify({ headers: tampered.headers, raw: Buffer.from(tampered.body.toString('utf8').replace('"1.0"', '"1.1"')) })).ok, false);
      tamperedRefused += 1;
    }
    assert.equal(verified, hooks.length, 'every webhook received was verified');
    assert.ok(tamperedRefused > 0, 'a tampered webhook was refused');
  });
});
