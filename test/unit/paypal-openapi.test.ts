// The simulator's real REST answers and webhook resources agree with PayPal's OpenAPI descriptions
// (paypal/openapi/), held strictly: one wrong field name or enum value per schema must fail.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { validateAgainst, type SpecFile } from '../../paypal/openapi/validate';
import { startSimulator, type Simulator } from '../../paypal/simulator/server';
import { orderRequest, refundRequest } from '../../paypal/rest/orders';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- PayPal's JSON, mutated field by field for the negative cases.
type Json = any;

function agrees(file: SpecFile, target: string, value: unknown, what: string): void {
  const verdict = validateAgainst(file, target, value);
  assert.ok(verdict.ok, `${what} does not agree with ${file} ${target}:\n${verdict.ok ? '' : verdict.errors.join('\n')}\n${JSON.stringify(value, null, 1)}`);
}

function disagrees(file: SpecFile, target: string, value: unknown, pattern: RegExp): void {
  const verdict = validateAgainst(file, target, value);
  assert.ok(!verdict.ok, `expected ${file} ${target} to refuse ${JSON.stringify(value).slice(0, 300)}`);
  assert.ok(verdict.errors.some((e) => pattern.test(e)), `no error matches ${pattern}: ${verdict.errors.join('; ')}`);
}

const copy = (value: unknown): Json => structuredClone(value);

describe("the simulator's Orders v2 answers and webhooks agree with PayPal's OpenAPI descriptions", () => {
  let sim: Simulator;
  let hooks: Buffer[];
  let server: http.Server;
  let token = '';

  before(async () => {
    hooks = [];
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/paypal/webhook') hooks.push(Buffer.concat(chunks));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const keyship = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sim = await startSimulator({ port: 0, ipnUrl: `${keyship}/paypal/ipn`, webhookUrl: `${keyship}/paypal/webhook`, retry: { attempts: 1, firstDelayMs: 100, maxDelayMs: 100 } });
    const answer = await fetch(`${sim.url}/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(5_000),
    });
    token = ((await answer.json()) as { access_token: string }).access_token;
  });

  after(async () => {
    await sim?.close();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json }> {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, json: (await response.json()) as Json };
  }

  let invoice = 0;
  const orderBody = (itemTotal = '39.90', total = itemTotal) => ({
    intent: 'CAPTURE',
    purchase_units: [
      {
        reference_id: 'default',
        custom_id: 'account-7',
        invoice_id: `KS-OPENAPI-${process.pid}-${++invoice}`,
        description: 'Keyship order',
        amount: { currency_code: 'USD', value: total, breakdown: { item_total: { currency_code: 'USD', value: itemTotal } } },
        items: [{ name: 'Café guide', sku: 'GUIDE-1', quantity: '2', unit_amount: { currency_code: 'USD', value: '19.95' }, category: 'DIGITAL_GOODS' }],
      },
    ],
    payment_source: { paypal: { experience_context: { return_url: 'https://keyship.example/thanks', cancel_url: 'https://keyship.example/cancelled', shipping_preference: 'NO_SHIPPING', user_action: 'PAY_NOW', brand_name: 'Keyship' } } },
  });

  async function capturedOrder(outcome: 'card' | 'echeck' | 'declined' = 'card') {
    const created = await call('POST', '/v2/checkout/orders', orderBody(), { prefer: 'return=representation' });
    await sim.approveOrder(created.json.id as string, { outcome });
    const captured = await call('POST', `/v2/checkout/orders/${created.json.id}/capture`, undefined, { 'paypal-request-id': `capture-${created.json.id}`, prefer: 'return=representation' });
    return { created, captured, captureId: captured.json.purchase_units[0].payments.captures[0].id as string };
  }

  test("Keyship's create-order and refund bodies: the request schemas, and a misspelt field fails", () => {
    agrees('checkout_orders_v2', 'orders.create request', orderBody(), 'a create-order body');
    const wrong = copy(orderBody());
    wrong.purchase_units[0].item = wrong.purchase_units[0].items;
    delete wrong.purchase_units[0].items;
    disagrees('checkout_orders_v2', 'orders.create request', wrong, /unevaluated properties: item$/);
    const badCategory = copy(orderBody());
    badCategory.purchase_units[0].items[0].category = 'DIGITAL';
    disagrees('checkout_orders_v2', 'orders.create request', badCategory, /category must be equal to one of the allowed values/);
    agrees('payments_payment_v2', 'captures.refund request', { amount: { currency_code: 'USD', value: '5.00' }, note_to_payer: 'Sorry' }, 'a refund body');
    disagrees('payments_payment_v2', 'captures.refund request', { amount: { currency: 'USD', value: '5.00' } }, /unevaluated properties: currency$/);
  });

  test('orders: create (minimal and full), show, capture in every outcome', async () => {
    const minimal = await call('POST', '/v2/checkout/orders', orderBody());
    assert.equal(minimal.status, 201);
    agrees('checkout_orders_v2', 'orders.create 201', minimal.json, 'the minimal create answer');
    const { created, captured } = await capturedOrder('card');
    agrees('checkout_orders_v2', 'orders.create 201', created.json, 'the full create answer');
    const shown = await call('GET', `/v2/checkout/orders/${created.json.id}`);
    agrees('checkout_orders_v2', 'orders.get 200', shown.json, 'GET order');
    agrees('checkout_orders_v2', 'orders.capture 201', captured.json, 'the capture answer');
    for (const outcome of ['echeck', 'declined'] as const) agrees('checkout_orders_v2', 'orders.capture 201', (await capturedOrder(outcome)).captured.json, `a capture (${outcome})`);
    const approvedOnly = await call('POST', '/v2/checkout/orders', orderBody());
    await sim.approveOrder(approvedOnly.json.id as string);
    agrees('checkout_orders_v2', 'order', (await call('GET', `/v2/checkout/orders/${approvedOnly.json.id}`)).json, 'an approved order');
    const minimalCapture = await call('POST', `/v2/checkout/orders/${approvedOnly.json.id}/capture`);
    agrees('checkout_orders_v2', 'orders.capture 201', minimalCapture.json, 'the minimal capture answer');

    const badStatus = copy(shown.json);
    badStatus.status = 'CAPTURED';
    disagrees('checkout_orders_v2', 'order', badStatus, /status must be equal to one of the allowed values/);
    const badField = copy(captured.json);
    badField.purchase_units[0].payments.captures[0].captured_amount = badField.purchase_units[0].payments.captures[0].amount;
    disagrees('checkout_orders_v2', 'orders.capture 201', badField, /unevaluated properties: captured_amount$/);
  });

  test('captures and refunds as Payments v2 shows them', async () => {
    const { captureId } = await capturedOrder('card');
    const capture = await call('GET', `/v2/payments/captures/${captureId}`);
    agrees('payments_payment_v2', 'captures.get 200', capture.json, 'GET capture');
    const partial = await call('POST', `/v2/payments/captures/${captureId}/refund`, { amount: { currency_code: 'USD', value: '5.00' } }, { 'paypal-request-id': `r-${captureId}` });
    agrees('payments_payment_v2', 'captures.refund 201', partial.json, 'a partial refund');
    agrees('payments_payment_v2', 'captures.get 200', (await call('GET', `/v2/payments/captures/${captureId}`)).json, 'a partly refunded capture');
    agrees('payments_payment_v2', 'refunds.get 200', (await call('GET', `/v2/payments/refunds/${partial.json.id}`)).json, 'GET refund');
    const rest = await call('POST', `/v2/payments/captures/${captureId}/refund`);
    agrees('payments_payment_v2', 'captures.refund 201', rest.json, 'the refund of the rest');

    const badCapture = copy(capture.json);
    badCapture.supplementary_data.related_ids.orderid = badCapture.supplementary_data.related_ids.order_id;
    disagrees('payments_payment_v2', 'capture-2', badCapture, /unevaluated properties: orderid$/);
    const badRefund = copy(partial.json);
    badRefund.status = 'REFUNDED';
    disagrees('payments_payment_v2', 'refund', badRefund, /status must be equal to one of the allowed values/);
  });

  test("error bodies: each one in the shape and wording of the operation's own errors", async () => {
    const missing = await call('POST', '/v2/checkout/orders', { purchase_units: orderBody().purchase_units });
    agrees('checkout_orders_v2', 'orders.create 400', missing.json, 'MISSING_REQUIRED_PARAMETER');
    for (const [body, issue] of [
      [orderBody('10.00'), 'ITEM_TOTAL_MISMATCH'],
      [orderBody('39.90', '40.00'), 'AMOUNT_MISMATCH'],
    ] as const) {
      const refused = await call('POST', '/v2/checkout/orders', body);
      assert.equal(refused.json.details[0].issue, issue);
      agrees('checkout_orders_v2', 'orders.create 422', refused.json, issue);
    }
    const used = orderBody();
    await call('POST', '/v2/checkout/orders', used);
    const duplicate = await call('POST', '/v2/checkout/orders', used);
    assert.equal(duplicate.json.details[0].issue, 'DUPLICATE_INVOICE_ID');
    agrees('checkout_orders_v2', 'orders.create 422', duplicate.json, 'DUPLICATE_INVOICE_ID');
    agrees('checkout_orders_v2', 'orders.get 404', (await call('GET', '/v2/checkout/orders/NOSUCHORDER00000')).json, 'an unknown order');
    const anonymous = await fetch(`${sim.url}/v2/checkout/orders/NOSUCHORDER00000`, { signal: AbortSignal.timeout(5_000) });
    agrees('checkout_orders_v2', 'orders.get 401', await anonymous.json(), 'a call without a token');

    const fresh = await call('POST', '/v2/checkout/orders', orderBody());
    const notApproved = await call('POST', `/v2/checkout/orders/${fresh.json.id}/capture`);
    assert.equal(notApproved.json.details[0].issue, 'ORDER_NOT_APPROVED');
    agrees('checkout_orders_v2', 'orders.capture 422', notApproved.json, 'ORDER_NOT_APPROVED');
    const { created, captureId } = await capturedOrder('card');
    const again = await call('POST', `/v2/checkout/orders/${created.json.id}/capture`, undefined, { 'paypal-request-id': 'another' });
    assert.equal(again.json.details[0].issue, 'ORDER_ALREADY_CAPTURED');
    agrees('checkout_orders_v2', 'orders.capture 422', again.json, 'ORDER_ALREADY_CAPTURED');
    agrees('payments_payment_v2', 'captures.get 404', (await call('GET', '/v2/payments/captures/NOSUCHCAPTURE000')).json, 'an unknown capture');
    const tooMuch = await call('POST', `/v2/payments/captures/${captureId}/refund`, { amount: { currency_code: 'USD', value: '99.00' } });
    assert.equal(tooMuch.json.details[0].issue, 'REFUND_AMOUNT_EXCEEDED');
    agrees('payments_payment_v2', 'captures.refund 422', tooMuch.json, 'REFUND_AMOUNT_EXCEEDED');
    const { captureId: pendingId } = await capturedOrder('echeck');
    const pending = await call('POST', `/v2/payments/captures/${pendingId}/refund`);
    agrees('payments_payment_v2', 'captures.refund 422', pending.json, 'PENDING_CAPTURE');
    await call('POST', `/v2/payments/captures/${captureId}/refund`);
    const fully = await call('POST', `/v2/payments/captures/${captureId}/refund`);
    agrees('payments_payment_v2', 'captures.refund 422', fully.json, 'CAPTURE_FULLY_REFUNDED');

    const approved = await call('POST', '/v2/checkout/orders', orderBody());
    await sim.approveOrder(approved.json.id as string);
    sim.failNext({ method: 'POST', pathPattern: '/capture$' });
    const fault = await call('POST', `/v2/checkout/orders/${approved.json.id}/capture`);
    assert.equal(fault.status, 500);
    agrees('checkout_orders_v2', 'orders.capture 500', fault.json, 'INTERNAL_SERVER_ERROR');

    const wrongIssue = copy(again.json);
    wrongIssue.details[0].issue = 'ORDER_CAPTURED_ALREADY';
    disagrees('checkout_orders_v2', 'orders.capture 422', wrongIssue, /issue must be equal to one of the allowed values/);
    const wrongText = copy(again.json);
    wrongText.details[0].description = 'Order was already captured.';
    disagrees('checkout_orders_v2', 'orders.capture 422', wrongText, /description must be equal to one of the allowed values/);
  });

  test('webhooks: the envelope as PayPal describes events, each resource as its API shows it', async () => {
    const { created, captureId } = await capturedOrder('card');
    await capturedOrder('echeck');
    await capturedOrder('declined');
    await call('POST', `/v2/payments/captures/${captureId}/refund`, { amount: { currency_code: 'USD', value: '1.00' } });
    const { dispute } = await sim.openDispute(captureId);
    await sim.updateDispute(dispute.id);
    await sim.resolveDispute(dispute.id, { outcome: 'buyer' });
    const ipnPayment = await sim.pay({ items: [{ itemNumber: 'GUIDE-1', amount: '19.95' }] });
    await sim.refund(ipnPayment.txnId, { amount: '2.00' });
    await sim.idle();
    const events = hooks.map((raw) => JSON.parse(raw.toString('utf8')) as Json);
    const schemaFor: Record<string, [SpecFile, string]> = {
      capture: ['payments_payment_v2', 'capture-2'],
      refund: ['payments_payment_v2', 'refund'],
      dispute: ['customer_disputes_v1', 'dispute'],
      'checkout-order': ['checkout_orders_v2', 'order'],
    };
    const seen = new Set<string>();
    for (const event of events) {
      agrees('notifications_webhooks_v1', 'event', event, `the ${event.event_type} envelope`);
      const [file, schema] = schemaFor[event.resource_type as string] ?? assert.fail(`no schema for resource_type ${event.resource_type}`);
      agrees(file, schema, event.resource, `the ${event.event_type} resource`);
      seen.add(event.event_type as string);
    }
    assert.deepEqual(
      [...seen].sort(),
      ['CHECKOUT.ORDER.APPROVED', 'CUSTOMER.DISPUTE.CREATED', 'CUSTOMER.DISPUTE.RESOLVED', 'CUSTOMER.DISPUTE.UPDATED', 'PAYMENT.CAPTURE.COMPLETED', 'PAYMENT.CAPTURE.DECLINED', 'PAYMENT.CAPTURE.PENDING', 'PAYMENT.CAPTURE.REFUNDED', 'PAYMENT.CAPTURE.REVERSED'],
    );

    const resolved = events.find((e) => e.event_type === 'CUSTOMER.DISPUTE.RESOLVED');
    const badDispute = copy(resolved.resource);
    badDispute.outcome = badDispute.dispute_outcome;
    delete badDispute.dispute_outcome;
    disagrees('customer_disputes_v1', 'dispute', badDispute, /unevaluated properties: outcome$/);
    const badReason = copy(resolved.resource);
    badReason.reason = 'NOT_RECEIVED';
    disagrees('customer_disputes_v1', 'dispute', badReason, /reason must be equal to one of the allowed values/);
    const approvedEvent = events.find((e) => e.event_type === 'CHECKOUT.ORDER.APPROVED' && e.resource.id === created.json.id);
    const badOrder = copy(approvedEvent.resource);
    badOrder.payer.payer_id = 'payer-1';
    disagrees('checkout_orders_v2', 'order', badOrder, /payer_id must match pattern/);
    const badEnvelope = copy(approvedEvent);
    badEnvelope.eventType = badEnvelope.event_type;
    disagrees('notifications_webhooks_v1', 'event', badEnvelope, /unevaluated properties: eventType$/);
  });
});

test("Keyship's own requests (create order, refund) agree with PayPal's OpenAPI descriptions", () => {
  const order = orderRequest({
    lines: [
      { itemNumber: 'GUIDE-1', name: 'Field Guide', quantity: 2, unitAmount: '19.95' },
      { itemNumber: 'NOREMIND', name: 'Quiet Guide', quantity: 1, unitAmount: '5.00' },
    ],
    currency: 'USD',
    total: '44.90',
    customId: 'ks0123456789abcdef0123',
    invoiceId: 'keyship-ks0123456789abcdef0123',
    returnUrl: 'https://shop.example/thanks',
    cancelUrl: 'https://shop.example/checkout/cancelled',
    brandName: 'Keyship',
  });
  agrees('checkout_orders_v2', 'orders.create request', order, "Keyship's create-order body");
  agrees('payments_payment_v2', 'captures.refund request', refundRequest({ value: '2.00', currency: 'USD' }), "Keyship's partial refund body");
  assert.equal(refundRequest(), undefined, 'a full refund sends no body');
});
