// What happens to an Orders v2 order in the simulator: created, approved (by the approval page or the
// control API, with the outcome its capture will have), cancelled, captured; and disputes about a
// capture. Each step changes the ledger, then announces itself with PayPal's webhooks (and, when the
// seller has IPN on, an IPN for the capture). Refunds and reversals go through `deps.reverse`, the
// server's path for later transactions that IPN payments share.
import type { ApprovalOutcome, Ledger, SimDispute, SimItem, SimOrder, SimPayment } from './ledger';
import { newTxnId } from './ledger';
import { iso, judgeOrderRequest, invoiceTaken, newDisputeId, newPayerId, refundable, simulatorMerchantId, testBuyer } from './orders';
import { RestError, notFound, unprocessable } from './rest-errors';
import type { SentReport } from './server';
import { webhookEvents, type WebhookEvent } from './webhook-events';

export interface ApproveInput {
  outcome?: ApprovalOutcome;
  /** Approve without the redirect: the buyer closes the tab, the seller learns of it by webhook. */
  closeTab?: boolean;
  payer?: { email?: string; givenName?: string; surname?: string };
}

export interface DisputeInput {
  /** One of PayPal's dispute reasons; MERCHANDISE_OR_SERVICE_NOT_RECEIVED when unset. */
  reason?: string;
  /** Disputed amount (decimal string); the whole capture when unset. */
  amount?: string;
}

export interface CheckoutFlowDeps {
  ledger: Ledger;
  api: () => string;
  business: string;
  orderLifetimeMs: number;
  /** Records the webhook at once and resolves when its first delivery attempt is answered. */
  sendWebhook(event: WebhookEvent | undefined): Promise<SentReport['webhooks']>;
  /** Issues the capture's IPN (when due) and webhook as it stands now; resolves once both were tried. */
  announce(payment: SimPayment): Promise<SentReport>;
  /** Records a refund or reversal of a payment (also an IPN payment) at once; its IPN and webhook follow. */
  reverse(txnId: string, options: { status: 'Refunded' | 'Reversed'; reasonCode: string; amount?: string; noteToPayer?: string }): Announced<{ txnId: string }>;
}

/**
 * A change made at once, and the promise of its messages: PayPal's REST answers do not wait for the
 * webhooks, so the routes answer before `announced` settles; the control API and tests await it.
 */
export type Announced<T> = T & { announced: Promise<SentReport> };

const cents = (value: string) => Math.round(Number(value) * 100);

export function createCheckoutFlow(deps: CheckoutFlowDeps) {
  const { ledger } = deps;

  function order(id: string): SimOrder {
    const found = ledger.orders.get(id);
    if (!found) throw notFound('orders', 'order_id', id);
    return found;
  }

  /** Past its lifetime, an order nobody approved can no longer be approved (and so not captured). */
  const lapsed = (o: SimOrder) => o.status === 'CREATED' && Date.now() - Date.parse(o.createTime) > deps.orderLifetimeMs;

  function createOrder(body: unknown): SimOrder {
    const judged = judgeOrderRequest(body, (invoiceId) => invoiceTaken(ledger, invoiceId));
    const now = iso(new Date());
    const created: SimOrder = { id: newTxnId(), status: 'CREATED', createTime: now, updateTime: now, business: deps.business, ...judged };
    ledger.saveOrder(created);
    return created;
  }

  /** The buyer approves: the order is APPROVED with its payer, PayPal sends CHECKOUT.ORDER.APPROVED. */
  function approveOrder(orderId: string, input: ApproveInput = {}): Announced<{ order: SimOrder; redirect?: string }> {
    const o = order(orderId);
    if (lapsed(o)) throw unprocessable('orders', { issue: 'ORDER_EXPIRED', field: 'order_id', value: orderId, location: 'path' });
    if (o.status !== 'CREATED') throw new Error(`Order ${orderId} is ${o.status}: an order is approved once.`);
    if (input.outcome !== undefined && !['card', 'echeck', 'declined'].includes(input.outcome)) throw new Error(`Outcome "${String(input.outcome)}" is none of card, echeck, declined.`);
    o.status = 'APPROVED';
    o.updateTime = iso(new Date());
    o.approval = {
      outcome: input.outcome ?? 'card',
      closeTab: input.closeTab ?? false,
      payer: { email: input.payer?.email || testBuyer.email, givenName: input.payer?.givenName || testBuyer.givenName, surname: input.payer?.surname || testBuyer.surname, payerId: newPayerId() },
    };
    ledger.saveOrder(o);
    const webhooks = deps.sendWebhook(webhookEvents.orderApprovedEvent(o, deps.api(), new Date()));
    const announced = webhooks.then((sent): SentReport => ({ txnId: o.id, ipns: [], webhooks: sent }));
    let redirect: string | undefined;
    if (o.returnUrl && !o.approval.closeTab) {
      const back = new URL(o.returnUrl);
      back.searchParams.set('token', o.id);
      back.searchParams.set('PayerID', o.approval.payer.payerId);
      redirect = back.toString();
    }
    return { order: o, redirect, announced };
  }

  /** The buyer cancels on the approval page: nothing changes at PayPal; back to cancel_url?token=. */
  function cancelOrder(orderId: string): { order: SimOrder; redirect?: string } {
    const o = order(orderId);
    if (!o.cancelUrl) return { order: o };
    const back = new URL(o.cancelUrl);
    back.searchParams.set('token', o.id);
    return { order: o, redirect: back.toString() };
  }

  /**
   * Captures an approved order with the outcome the buyer chose. A declined card still answers 201:
   * the order is COMPLETED and its capture DECLINED, as PayPal does for a capture the processor refuses.
   */
  function captureOrder(orderId: string): Announced<{ order: SimOrder; payment: SimPayment }> {
    const o = order(orderId);
    if (o.captureId) throw unprocessable('orders', { issue: 'ORDER_ALREADY_CAPTURED', field: 'order_id', value: orderId, location: 'path' });
    if (o.status !== 'APPROVED' || !o.approval) throw unprocessable('orders', { issue: 'ORDER_NOT_APPROVED', field: 'order_id', value: orderId, location: 'path' });
    const { outcome, payer } = o.approval;
    const unit = o.unit;
    const items: SimItem[] = unit.items?.length
      ? unit.items.map((item) => ({ itemNumber: item.sku ?? '', itemName: item.name, amount: item.unit_amount.value, quantity: Number(item.quantity) }))
      : [{ itemNumber: '', itemName: unit.description ?? 'Order', amount: unit.amount.value, quantity: 1 }];
    const payment: SimPayment = {
      txnId: newTxnId(),
      method: outcome === 'echeck' ? 'echeck' : 'card',
      environment: 'live',
      status: outcome === 'declined' ? 'Declined' : outcome === 'echeck' ? 'Pending' : 'Completed',
      items,
      cart: true,
      currency: unit.amount.currency_code,
      gross: (cents(unit.amount.value) / 100).toFixed(2),
      business: deps.business,
      receiverId: simulatorMerchantId,
      payer: { email: payer.email, firstName: payer.givenName, lastName: payer.surname, payerId: payer.payerId },
      custom: unit.custom_id,
      invoice: unit.invoice_id,
      charset: 'UTF-8',
      createdAt: new Date(),
      children: [],
      orderId: o.id,
    };
    ledger.save(payment);
    o.status = 'COMPLETED';
    o.captureId = payment.txnId;
    o.updateTime = iso(payment.createdAt);
    ledger.saveOrder(o);
    return { order: o, payment, announced: deps.announce(payment) };
  }

  function capture(captureId: string): SimPayment {
    const found = ledger.payments.get(captureId);
    if (!found) throw notFound('payments', 'capture_id', captureId);
    return found;
  }

  /** POST /v2/payments/captures/{id}/refund: PayPal's checks, then the shared refund path. */
  function refundCapture(captureId: string, amount?: { currency_code?: string; value?: string }, noteToPayer?: string): Announced<{ payment: SimPayment; refundId: string }> {
    const p = capture(captureId);
    if (p.status === 'Pending') throw unprocessable('payments', { issue: 'PENDING_CAPTURE' });
    if (p.status === 'Declined' || p.status === 'Reversed') throw unprocessable('payments', { issue: 'REFUND_NOT_ALLOWED' });
    const left = refundable(p);
    if (left <= 0) throw unprocessable('payments', { issue: 'CAPTURE_FULLY_REFUNDED' });
    if (amount !== undefined) {
      const value = amount.value ?? '';
      if (!/^\d+(\.\d+)?$/.test(value) || !amount.currency_code) throw new RestError(400, [{ issue: amount.currency_code ? 'INVALID_PARAMETER_SYNTAX' : 'MISSING_REQUIRED_PARAMETER', field: amount.currency_code ? '/amount/value' : '/amount/currency_code', value, location: 'body' }], 'payments');
      if (/\.\d{3,}$/.test(value)) throw unprocessable('payments', { issue: 'DECIMAL_PRECISION', field: '/amount/value', value, location: 'body' });
      if (cents(value) <= 0) throw unprocessable('payments', { issue: 'CANNOT_BE_ZERO_OR_NEGATIVE', field: '/amount/value', value, location: 'body' });
      if (cents(value) > left) throw unprocessable('payments', { issue: 'REFUND_AMOUNT_EXCEEDED', field: '/amount/value', value, location: 'body' });
    }
    if (amount?.currency_code && amount.currency_code !== p.currency) throw unprocessable('payments', { issue: 'REFUND_CAPTURE_CURRENCY_MISMATCH', field: '/amount/currency_code', value: amount.currency_code, location: 'body' });
    const { txnId, announced } = deps.reverse(captureId, { status: 'Refunded', reasonCode: 'refund', amount: amount?.value, noteToPayer });
    return { payment: p, refundId: txnId, announced };
  }

  function dispute(disputeId: string): SimDispute {
    const found = ledger.disputes.get(disputeId);
    if (!found) throw notFound('disputes', 'dispute_id', disputeId);
    return found;
  }

  async function announceDispute(change: 'CREATED' | 'UPDATED' | 'RESOLVED', d: SimDispute): Promise<SentReport> {
    const p = capture(d.captureId);
    return { txnId: d.id, ipns: [], webhooks: await deps.sendWebhook(webhookEvents.disputeEvent(change, d, p, deps.api(), new Date())) };
  }

  /** The buyer opens a case about a capture (or an IPN payment: the txn id is the capture id). */
  async function openDispute(captureId: string, input: DisputeInput = {}): Promise<{ dispute: SimDispute; report: SentReport }> {
    const p = ledger.findPayment(captureId);
    if (!p) throw notFound('disputes', 'capture_id', captureId);
    const now = iso(new Date());
    const d: SimDispute = {
      id: newDisputeId(),
      captureId: p.txnId,
      reason: input.reason ?? 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED',
      status: 'OPEN',
      stage: 'INQUIRY',
      amount: { currency_code: p.currency, value: input.amount ? (cents(input.amount) / 100).toFixed(2) : p.gross },
      createTime: now,
      updateTime: now,
    };
    ledger.saveDispute(d);
    return { dispute: d, report: await announceDispute('CREATED', d) };
  }

  /** The case moves on a step: the seller is asked to answer, then PayPal reviews it (as a chargeback). */
  async function updateDispute(disputeId: string): Promise<{ dispute: SimDispute; report: SentReport }> {
    const d = dispute(disputeId);
    if (d.status === 'RESOLVED') throw new Error(`Dispute ${disputeId} is resolved; open another with: npm run simulate -- dispute open CAPTURE`);
    d.status = d.status === 'OPEN' ? 'WAITING_FOR_SELLER_RESPONSE' : 'UNDER_REVIEW';
    if (d.status === 'UNDER_REVIEW') d.stage = 'CHARGEBACK';
    d.updateTime = iso(new Date());
    ledger.saveDispute(d);
    return { dispute: d, report: await announceDispute('UPDATED', d) };
  }

  /** Resolved for the buyer, PayPal first takes the disputed amount (at most what is not yet refunded) back from the seller: a reversal. */
  async function resolveDispute(disputeId: string, input: { outcome: 'seller' | 'buyer' }): Promise<{ dispute: SimDispute; report: SentReport }> {
    const d = dispute(disputeId);
    if (d.status === 'RESOLVED') throw new Error(`Dispute ${disputeId} is already resolved in the ${d.outcome}'s favour.`);
    if (input.outcome !== 'seller' && input.outcome !== 'buyer') throw new Error('A dispute is resolved for the seller or for the buyer: outcome "seller" or "buyer".');
    const left = refundable(capture(d.captureId));
    const back = Math.min(cents(d.amount.value), left);
    const reversal = input.outcome === 'buyer' && back > 0 ? await deps.reverse(d.captureId, { status: 'Reversed', reasonCode: 'buyer-complaint', amount: (back / 100).toFixed(2), noteToPayer: 'Payment reversed' }).announced : undefined;
    d.status = 'RESOLVED';
    d.outcome = input.outcome;
    d.updateTime = iso(new Date());
    ledger.saveDispute(d);
    const report = await announceDispute('RESOLVED', d);
    return { dispute: d, report: { ...report, ipns: [...(reversal?.ipns ?? []), ...report.ipns], webhooks: [...(reversal?.webhooks ?? []), ...report.webhooks] } };
  }

  const findOrder = (id: string): SimOrder | undefined => ledger.orders.get(id);

  return { order, findOrder, lapsed, createOrder, approveOrder, cancelOrder, captureOrder, capture, refundCapture, dispute, openDispute, updateDispute, resolveDispute };
}

export type CheckoutFlow = ReturnType<typeof createCheckoutFlow>;
