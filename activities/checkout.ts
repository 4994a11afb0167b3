// The side effects of a PayPal Checkout (workflows/checkout.ts): creating the order at PayPal,
// capturing it, and handing the captured payment to its invoice workflow; and an operator's refund
// through PayPal (workflows/invoice.ts). Each is idempotent:
// PayPal-Request-Id is derived from the checkout's ref (a retried activity, a second tab or a
// webhook's capture all send the same one), and the rows are keyed by the ref.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from './deps';
import { insertCheckout, updateCheckout } from '../db/checkouts';
import { recordOutcome } from '../db/paypal-messages';
import { insertRestAnswer, restAnswerJudged } from '../paypal/message-store';
import { paypalInvoiceId, type CheckoutInput, type CheckoutLine, type CheckoutOutcome } from '../domain/checkout';
import { signalInvoice } from '../domain/invoice-client';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import { PayPalApiError, type PayPalRestClient } from '../paypal/rest/client';
import { approveLink, captureOrder, createOrder, orderCapture, refundCapture } from '../paypal/rest/orders';
import { outgoingAmount } from '../domain/money';
import { orderToNotification } from '../paypal/rest/order-notification';
import type { PaymentNotification } from '../workflows/notification';

export type CaptureAnswer =
  | { kind: 'captured'; notification: PaymentNotification }
  /** The buyer has not approved the order (yet): the capture waits for an approval. */
  | { kind: 'not-approved'; detail: string }
  /** PayPal refused the buyer's funding source: the buyer is told to try again. */
  | { kind: 'declined'; detail: string };

function restOf(deps: ActivityDeps): PayPalRestClient {
  if (!deps.paypalRest) throw ApplicationFailure.nonRetryable('PayPal Checkout needs the REST app: set PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET for the worker.', 'PayPalNotConfigured');
  return deps.paypalRest;
}

/** A 4xx is PayPal's final word: retrying the same request cannot change it. */
function refusal(error: unknown): never {
  if (error instanceof PayPalApiError) throw ApplicationFailure.nonRetryable(error.message, 'PayPalRefused', { issue: error.issue, debugId: error.debugId });
  throw error;
}

export async function createCheckoutOrder(deps: ActivityDeps, input: CheckoutInput): Promise<{ orderId: string; approveUrl: string }> {
  const rest = restOf(deps);
  await insertCheckout(deps.pool, input);
  const order = await createOrder(
    rest,
    { lines: input.lines, currency: input.currency, total: input.total, customId: input.ref, invoiceId: paypalInvoiceId(input.ref), returnUrl: input.returnUrl, cancelUrl: input.cancelUrl },
    `${input.ref}-create`,
  ).catch(refusal);
  const approveUrl = approveLink(order);
  if (!approveUrl) throw ApplicationFailure.nonRetryable(`PayPal created order ${order.id} without an approve link`, 'PayPalAnswer');
  await updateCheckout(deps.pool, input.ref, { status: 'created', orderId: order.id });
  return { orderId: order.id, approveUrl };
}

const declinedIssues = new Set(['INSTRUMENT_DECLINED', 'TRANSACTION_REFUSED', 'PAYER_ACTION_REQUIRED', 'PAYER_CANNOT_PAY']);

/** Captures once (the same PayPal-Request-Id every time); the raw answer is kept like every PayPal message. */
export async function captureCheckoutOrder(deps: ActivityDeps, input: { ref: string; orderId: string; lines: CheckoutLine[] }): Promise<CaptureAnswer> {
  const rest = restOf(deps);
  let order;
  try {
    order = await captureOrder(rest, input.orderId, `${input.ref}-capture`);
  } catch (error) {
    if (error instanceof PayPalApiError && error.issue === 'ORDER_NOT_APPROVED') return { kind: 'not-approved', detail: 'The buyer has not approved the order at PayPal yet.' };
    if (error instanceof PayPalApiError && error.issue && declinedIssues.has(error.issue)) {
      return { kind: 'declined', detail: `PayPal declined the payment (${error.issue}); no money was taken.` };
    }
    refusal(error);
  }
  const capture = orderCapture(order);
  const messageId = await insertRestAnswer(deps.pool, order, {
    txnId: capture?.id ?? input.orderId,
    eventId: input.orderId,
    paymentStatus: capture ? `CAPTURE.${capture.status}` : `ORDER.${order.status}`,
  });
  const items = input.lines.map((line) => ({ itemNumber: line.itemNumber, itemName: line.name, quantity: line.quantity }));
  const notification = orderToNotification(order, { source: 'rest', messageId, items });
  if (!notification) {
    await recordOutcome(deps.pool, messageId, 'rejected', `order ${order.id} is ${order.status} with no capture`, restAnswerJudged);
    throw ApplicationFailure.nonRetryable(`PayPal answered the capture of order ${order.id} with no capture (order ${order.status})`, 'PayPalAnswer');
  }
  return { kind: 'captured', notification };
}

/** The captured payment goes to its invoice workflow (started if needed), as any PayPal message does. */
export async function handOverToInvoice(deps: ActivityDeps, input: { ref: string; notification: PaymentNotification }): Promise<void> {
  const { notification: n } = input;
  const context = Context.current();
  await signalInvoice(context.client, context.info.taskQueue, n);
  await recordOutcome(deps.pool, n.messageId, 'routed', `capture answer of checkout ${input.ref}`, restAnswerJudged, { workflowId: invoiceWorkflowId(n.txnId), notification: n });
}

export async function markCheckout(deps: ActivityDeps, input: { ref: string } & CheckoutOutcome & { payerEmail?: string }): Promise<void> {
  const { ref, status, orderId, captureId, payerEmail, detail } = input;
  await updateCheckout(deps.pool, ref, { status, orderId, captureId, payerEmail, detail });
}

export type RefundAnswer = { notification: PaymentNotification } | { pending: string } | { refused: string };

/**
 * Returns money through PayPal (POST /v2/payments/captures/{id}/refund, idempotent by requestId).
 * A completed refund answers the notification the invoice applies as if PayPal had sent it.
 */
export async function refundAtPayPal(deps: ActivityDeps, input: { txnId: string; amount?: string; currency?: string; requestId: string }): Promise<RefundAnswer> {
  const rest = restOf(deps);
  let refund;
  try {
    refund = await refundCapture(rest, input.txnId, input.requestId, input.amount && input.currency ? { value: input.amount, currency: input.currency } : undefined);
  } catch (error) {
    if (error instanceof PayPalApiError) return { refused: error.message };
    throw error;
  }
  const messageId = await insertRestAnswer(deps.pool, refund, { txnId: refund.id, parentTxnId: input.txnId, paymentStatus: `REFUND.${refund.status}` });
  if (refund.status !== 'COMPLETED') {
    await recordOutcome(deps.pool, messageId, 'routed', `refund ${refund.id} is ${refund.status}; PayPal's webhook tells when it completes`, restAnswerJudged);
    return { pending: `PayPal's refund ${refund.id} is ${refund.status}; the invoice changes when PayPal completes it` };
  }
  const notification: PaymentNotification = {
    source: 'rest',
    messageId,
    dedupeKey: `refund:${refund.id}`,
    txnId: input.txnId,
    eventTxnId: refund.id,
    status: 'Refunded',
    payer: { email: '' },
    items: [],
    gross: outgoingAmount(refund.amount?.value ?? input.amount ?? '0.00'),
    currency: refund.amount?.currency_code ?? input.currency ?? '',
  };
  await recordOutcome(deps.pool, messageId, 'routed', `refund ${refund.id} of ${input.txnId}`, restAnswerJudged, { workflowId: invoiceWorkflowId(input.txnId), notification });
  return { notification };
}
