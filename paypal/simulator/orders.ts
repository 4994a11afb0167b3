// PayPal Checkout (Orders v2) as the simulator plays it: how PayPal judges a create-order body, and
// the resources it answers (order, capture, refund, dispute) in the shapes of PayPal's OpenAPI
// descriptions. The state lives in the ledger; server.ts runs the operations and sends the webhooks.
import { randomBytes } from 'node:crypto';
import { fee } from './ipn-messages';
import type { ErrorDetail } from './rest-errors';
import { invalidRequest, unprocessable } from './rest-errors';
import type { Ledger, Money, PurchaseUnit, SimChild, SimDispute, SimOrder, SimPayment } from './ledger';

/** The simulator's merchant id: PayPal's account ids are 13 of [2-9A-HJ-NP-Z]. */
export const simulatorMerchantId = 'KEYSHPSMLATR2';

/** PayPal's payer and account ids: 13 of [2-9A-HJ-NP-Z]. */
export function newPayerId(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(randomBytes(13), (b) => alphabet[b % alphabet.length]).join('');
}

/** A test buyer for the approval page and the JSON approve route. */
export const testBuyer = { email: 'buyer@example.com', givenName: 'Zoë', surname: 'Müller' };

const cents = (value: string) => Math.round(Number(value) * 100);
const decimal = (c: number) => (c / 100).toFixed(2);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Judges a create-order body as PayPal does: schema problems first (400 INVALID_REQUEST, all of them),
 * then business rules (422 UNPROCESSABLE_ENTITY). Answers the purchase unit and experience to keep.
 */
export function judgeOrderRequest(body: unknown, invoiceTaken: (invoiceId: string) => boolean): Pick<SimOrder, 'unit' | 'returnUrl' | 'cancelUrl' | 'brandName'> {
  if (!isObject(body)) throw invalidRequest('orders', { issue: 'MALFORMED_REQUEST_JSON', location: 'body' });
  const syntax: ErrorDetail[] = [];
  const missing = (field: string) => syntax.push({ issue: 'MISSING_REQUIRED_PARAMETER', field, location: 'body' });
  if (body.intent === undefined) missing('/intent');
  else if (body.intent !== 'CAPTURE') {
    syntax.push({ issue: body.intent === 'AUTHORIZE' ? 'NOT_SUPPORTED' : 'INVALID_PARAMETER_VALUE', field: '/intent', value: String(body.intent), location: 'body' });
  }
  const units = body.purchase_units;
  if (!Array.isArray(units) || units.length === 0) {
    missing('/purchase_units');
    throw invalidRequest('orders', ...syntax);
  }
  // The simulator keeps to one purchase unit, as Keyship's checkout sends.
  if (units.length > 1) syntax.push({ issue: 'NOT_SUPPORTED', field: '/purchase_units', value: String(units.length), location: 'body' });
  const raw: unknown = units[0];
  if (!isObject(raw)) throw invalidRequest('orders', ...syntax, { issue: 'INVALID_PARAMETER_SYNTAX', field: '/purchase_units/0', location: 'body' });
  const ref = typeof raw.reference_id === 'string' ? raw.reference_id : 'default';
  const at = `/purchase_units/@reference_id=='${ref}'`;

  const money = (value: unknown, field: string): Money | undefined => {
    if (!isObject(value)) return void missing(field);
    if (typeof value.currency_code !== 'string') missing(`${field}/currency_code`);
    else if (!/^[A-Z]{3}$/.test(value.currency_code)) syntax.push({ issue: 'INVALID_PARAMETER_SYNTAX', field: `${field}/currency_code`, value: value.currency_code, location: 'body' });
    if (typeof value.value !== 'string') missing(`${field}/value`);
    else if (!/^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$/.test(value.value)) syntax.push({ issue: 'INVALID_PARAMETER_SYNTAX', field: `${field}/value`, value: value.value, location: 'body' });
    return typeof value.currency_code === 'string' && typeof value.value === 'string' ? { currency_code: value.currency_code, value: value.value } : undefined;
  };
  const amount = money(raw.amount, `${at}/amount`);
  const breakdownRaw = isObject(raw.amount) && isObject(raw.amount.breakdown) ? raw.amount.breakdown : undefined;
  const breakdown: Record<string, Money> = {};
  for (const [name, value] of Object.entries(breakdownRaw ?? {})) {
    const m = money(value, `${at}/amount/breakdown/${name}`);
    if (m) breakdown[name] = m;
  }
  const items: NonNullable<PurchaseUnit['items']> = [];
  if (raw.items !== undefined && !Array.isArray(raw.items)) syntax.push({ issue: 'INVALID_PARAMETER_SYNTAX', field: `${at}/items`, location: 'body' });
  (Array.isArray(raw.items) ? (raw.items as unknown[]) : []).forEach((item, i) => {
    const field = `${at}/items/${i}`;
    if (!isObject(item)) return void missing(field);
    if (typeof item.name !== 'string' || !item.name) missing(`${field}/name`);
    if (typeof item.quantity !== 'string') missing(`${field}/quantity`);
    else if (!/^[1-9][0-9]{0,9}$/.test(item.quantity)) syntax.push({ issue: 'INVALID_PARAMETER_SYNTAX', field: `${field}/quantity`, value: item.quantity, location: 'body' });
    const unitAmount = money(item.unit_amount, `${field}/unit_amount`);
    if (typeof item.name === 'string' && typeof item.quantity === 'string' && unitAmount) {
      items.push({ ...(item as object), name: item.name, quantity: item.quantity, unit_amount: unitAmount } as (typeof items)[number]);
    }
  });
  const experience = isObject(body.payment_source) && isObject(body.payment_source.paypal) && isObject(body.payment_source.paypal.experience_context) ? body.payment_source.paypal.experience_context : {};
  const url = (name: string): string | undefined => {
    const value = experience[name];
    if (value === undefined) return undefined;
    if (typeof value === 'string' && URL.canParse(value)) return value;
    syntax.push({ issue: 'INVALID_PARAMETER_SYNTAX', field: `/payment_source/paypal/experience_context/${name}`, value: String(value), location: 'body' });
    return undefined;
  };
  const returnUrl = url('return_url');
  const cancelUrl = url('cancel_url');
  if (syntax.length > 0 || !amount) throw invalidRequest('orders', ...syntax);

  const rules: ErrorDetail[] = [];
  const decimals = (m: Money, field: string) => {
    if (/\.\d{3,}$/.test(m.value)) rules.push({ issue: 'DECIMAL_PRECISION', field, value: m.value, location: 'body' });
  };
  decimals(amount, `${at}/amount/value`);
  if (cents(amount.value) <= 0) rules.push({ issue: 'CANNOT_BE_ZERO_OR_NEGATIVE', field: `${at}/amount/value`, value: amount.value, location: 'body' });
  if (items.length > 0 && !breakdown.item_total) rules.push({ issue: 'ITEM_TOTAL_REQUIRED', field: `${at}/amount/breakdown/item_total`, location: 'body' });
  if (breakdown.item_total) {
    const sum = items.reduce((total, item) => total + cents(item.unit_amount.value) * Number(item.quantity), 0);
    if (cents(breakdown.item_total.value) !== sum) rules.push({ issue: 'ITEM_TOTAL_MISMATCH', field: `${at}/amount/breakdown/item_total/value`, value: breakdown.item_total.value, location: 'body' });
  }
  if (breakdownRaw) {
    const part = (name: string) => (breakdown[name] ? cents(breakdown[name].value) : 0);
    const expected = part('item_total') + part('tax_total') + part('shipping') + part('handling') + part('insurance') - part('shipping_discount') - part('discount');
    if (cents(amount.value) !== expected) rules.push({ issue: 'AMOUNT_MISMATCH', field: `${at}/amount/value`, value: amount.value, location: 'body' });
  }
  const invoiceId = typeof raw.invoice_id === 'string' ? raw.invoice_id : undefined;
  if (invoiceId && invoiceTaken(invoiceId)) rules.push({ issue: 'DUPLICATE_INVOICE_ID', field: `${at}/invoice_id`, value: invoiceId, location: 'body' });
  if (rules.length > 0) throw unprocessable('orders', ...rules);

  const text = (name: string) => (typeof raw[name] === 'string' ? (raw[name] as string) : undefined);
  const unit: PurchaseUnit = {
    reference_id: ref,
    amount: { ...amount, ...(breakdownRaw ? { breakdown } : {}) },
    ...(items.length ? { items } : {}),
    ...(text('custom_id') ? { custom_id: text('custom_id') } : {}),
    ...(invoiceId ? { invoice_id: invoiceId } : {}),
    ...(text('description') ? { description: text('description') } : {}),
    ...(text('soft_descriptor') ? { soft_descriptor: text('soft_descriptor') } : {}),
  };
  return { unit, returnUrl, cancelUrl, brandName: typeof experience.brand_name === 'string' ? experience.brand_name : undefined };
}

/** Has this invoice id been used by an order or a payment before (PayPal's DUPLICATE_INVOICE_ID)? */
export function invoiceTaken(ledger: Ledger, invoiceId: string): boolean {
  for (const order of ledger.orders.values()) if (order.unit.invoice_id === invoiceId) return true;
  for (const payment of ledger.payments.values()) if (payment.invoice === invoiceId) return true;
  return false;
}

const link = (href: string, rel: string, method = 'GET') => ({ href, rel, method });

/** What remains of a capture to refund, in cents: a cancelled reversal gives the seller the last reversal back. */
export function refundable(payment: SimPayment): number {
  let back = 0;
  let lastReversal = 0;
  for (const c of payment.children) {
    if (c.status === 'Refunded' || c.status === 'Reversed') back -= cents(c.gross);
    if (c.status === 'Reversed') lastReversal = -cents(c.gross);
    if (c.status === 'Canceled_Reversal') back -= lastReversal;
  }
  return cents(payment.gross) - back;
}

/** The capture's status in PayPal's words, refunds counted. */
export function captureStatus(payment: SimPayment): 'COMPLETED' | 'PENDING' | 'DECLINED' | 'REFUNDED' | 'PARTIALLY_REFUNDED' {
  if (payment.status === 'Pending') return 'PENDING';
  if (payment.status === 'Declined') return 'DECLINED';
  const left = refundable(payment);
  if (left <= 0) return 'REFUNDED';
  return left < cents(payment.gross) ? 'PARTIALLY_REFUNDED' : 'COMPLETED';
}

/**
 * A capture as PayPal shows it: inside an order (`flavour: 'order'`, PayPal's orders `capture`) or on
 * its own and in webhooks (`'payments'`, Payments v2 `capture-2`, with the payee and the order id).
 */
export function captureResource(payment: SimPayment, api: string, flavour: 'order' | 'payments'): Record<string, unknown> {
  const status = captureStatus(payment);
  const amount = { currency_code: payment.currency, value: payment.gross };
  const money = (c: number) => ({ currency_code: payment.currency, value: decimal(c) });
  const lastChange = payment.children.map((c) => c.at).filter((at): at is string => !!at).sort().at(-1);
  const paypalFee = cents(fee(Number(payment.gross)));
  return {
    id: payment.txnId,
    status,
    ...(status === 'PENDING' ? { status_details: { reason: payment.method === 'echeck' ? 'ECHECK' : 'OTHER' } } : {}),
    amount,
    final_capture: true,
    ...(status === 'DECLINED'
      ? {}
      : {
          seller_protection: { status: 'ELIGIBLE', dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'] },
          seller_receivable_breakdown: { gross_amount: amount, paypal_fee: money(paypalFee), net_amount: money(cents(payment.gross) - paypalFee) },
        }),
    ...(payment.custom ? { custom_id: payment.custom } : {}),
    ...(payment.invoice ? { invoice_id: payment.invoice } : {}),
    ...(flavour === 'payments'
      ? {
          payee: { email_address: payment.business, merchant_id: simulatorMerchantId },
          ...(payment.orderId ? { supplementary_data: { related_ids: { order_id: payment.orderId } } } : {}),
        }
      : {}),
    create_time: iso(payment.createdAt),
    update_time: lastChange ?? iso(payment.createdAt),
    links: [
      link(`${api}/v2/payments/captures/${payment.txnId}`, 'self'),
      ...(status === 'COMPLETED' || status === 'PARTIALLY_REFUNDED' ? [link(`${api}/v2/payments/captures/${payment.txnId}/refund`, 'refund', 'POST')] : []),
      ...(payment.orderId ? [link(`${api}/v2/checkout/orders/${payment.orderId}`, 'up')] : []),
    ],
  };
}

/** PayPal writes its times to the second. */
export const iso = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A refund (or a reversal, which PayPal shows as a refund with its note) as Payments v2 answers it. */
export function refundResource(payment: SimPayment, child: SimChild, api: string): Record<string, unknown> {
  const value = child.gross.replace(/^-/, '');
  const money = (c: number) => ({ currency_code: payment.currency, value: decimal(c) });
  const refundedFee = Math.round((cents(fee(Number(payment.gross))) * cents(value)) / cents(payment.gross));
  const upTo = payment.children.slice(0, payment.children.indexOf(child) + 1).filter((c) => c.status === 'Refunded' || c.status === 'Reversed');
  const total = upTo.reduce((sum, c) => sum - cents(c.gross), 0);
  const at = child.at ?? iso(payment.createdAt);
  return {
    id: child.txnId,
    amount: { currency_code: payment.currency, value },
    seller_payable_breakdown: {
      gross_amount: { currency_code: payment.currency, value },
      paypal_fee: money(refundedFee),
      net_amount: money(cents(value) - refundedFee),
      total_refunded_amount: money(total),
    },
    ...(payment.invoice ? { invoice_id: payment.invoice } : {}),
    ...(payment.custom ? { custom_id: payment.custom } : {}),
    ...(child.noteToPayer ? { note_to_payer: child.noteToPayer } : {}),
    status: 'COMPLETED',
    create_time: at,
    update_time: at,
    links: [link(`${api}/v2/payments/refunds/${child.txnId}`, 'self'), link(`${api}/v2/payments/captures/${payment.txnId}`, 'up')],
  };
}

function payerOf(order: SimOrder) {
  const p = order.approval?.payer;
  if (!p) return undefined;
  const name = { given_name: p.givenName, surname: p.surname };
  return {
    payment_source: { paypal: { email_address: p.email, account_id: p.payerId, account_status: 'VERIFIED', name, address: { country_code: 'US' } } },
    payer: { name, email_address: p.email, payer_id: p.payerId, address: { country_code: 'US' } },
  };
}

/** The order as GET answers it (and create or capture with `Prefer: return=representation`). */
export function orderResource(order: SimOrder, capture: SimPayment | undefined, api: string): Record<string, unknown> {
  const self = `${api}/v2/checkout/orders/${order.id}`;
  const links =
    order.status === 'COMPLETED'
      ? [link(self, 'self')]
      : [
          link(self, 'self'),
          ...(order.status === 'CREATED' ? [link(`${api}/checkoutnow?token=${order.id}`, 'approve')] : []),
          link(self, 'update', 'PATCH'),
          link(`${self}/capture`, 'capture', 'POST'),
        ];
  return {
    id: order.id,
    intent: 'CAPTURE',
    status: order.status,
    ...payerOf(order),
    purchase_units: [
      {
        ...order.unit,
        payee: { email_address: order.business, merchant_id: simulatorMerchantId },
        ...(capture ? { payments: { captures: [captureResource(capture, api, 'order')] } } : {}),
      },
    ],
    create_time: order.createTime,
    update_time: order.updateTime,
    links,
  };
}

/** The minimal answers PayPal gives without `Prefer: return=representation`. */
export function minimalOrder(order: SimOrder, capture: SimPayment | undefined, api: string): Record<string, unknown> {
  const full = orderResource(order, capture, api);
  if (!capture) return { id: full.id, status: full.status, links: full.links };
  return {
    id: full.id,
    status: full.status,
    ...payerOf(order),
    purchase_units: [{ reference_id: order.unit.reference_id, payments: { captures: [captureResource(capture, api, 'order')] } }],
    links: full.links,
  };
}

/** A dispute as PayPal's Disputes API and the CUSTOMER.DISPUTE.* webhooks show it. */
export function disputeResource(dispute: SimDispute, payment: SimPayment, api: string): Record<string, unknown> {
  return {
    dispute_id: dispute.id,
    create_time: dispute.createTime,
    update_time: dispute.updateTime,
    disputed_transactions: [
      {
        seller_transaction_id: payment.txnId,
        create_time: iso(payment.createdAt),
        transaction_status: payment.status === 'Reversed' ? 'REVERSED' : 'COMPLETED',
        gross_amount: { currency_code: payment.currency, value: payment.gross },
        ...(payment.invoice ? { invoice_number: payment.invoice } : {}),
        ...(payment.custom ? { custom: payment.custom } : {}),
        buyer: { name: `${payment.payer.firstName} ${payment.payer.lastName}`.trim() },
        seller: { email: payment.business, merchant_id: simulatorMerchantId, name: 'Keyship simulator seller' },
      },
    ],
    reason: dispute.reason,
    status: dispute.status,
    dispute_amount: dispute.amount,
    ...(dispute.outcome
      ? {
          dispute_outcome: {
            outcome_code: dispute.outcome === 'seller' ? 'RESOLVED_SELLER_FAVOUR' : 'RESOLVED_BUYER_FAVOUR',
            ...(dispute.outcome === 'buyer' ? { amount_refunded: dispute.amount } : {}),
          },
        }
      : {}),
    dispute_life_cycle_stage: dispute.stage,
    dispute_channel: 'INTERNAL',
    links: [link(`${api}/v1/customer/disputes/${dispute.id}`, 'self')],
  };
}

/** PayPal's case ids: PP-D- and digits. */
export const newDisputeId = () => `PP-D-${100000 + (randomBytes(4).readUInt32BE() % 900000)}`;
