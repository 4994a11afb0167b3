// The checkout workflow: one PayPal Checkout (Orders v2) purchase from the buyer's Buy to the
// capture, read in its history as the checkout went: order created, approved (by the buyer's
// return, the JS buttons or PayPal's webhook, whichever came first), captured once, handed to the
// invoice workflow of the capture id, which delivers, e-mails and meets refunds and disputes as
// for any PayPal payment. An order never approved lapses after PayPal's approval window and the
// checkout ends quietly, leaving no invoice.
//
// Start contract: workflow type 'checkout', id checkoutWorkflowId(ref), started by the api with
// updateWithStart of `placeOrder` (domain/checkout-client.ts), argument CheckoutInput.
import { ApplicationFailure, allHandlersFinished, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { InvoiceActivities } from '../activities';
import type { CheckoutInput, CheckoutOutcome } from '../domain/checkout';
import * as messages from './checkout-messages';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };
// PayPal calls: a 4xx fails at once (non-retryable); a 5xx or timeout is retried with the same PayPal-Request-Id.
const paypal = proxyActivities<InvoiceActivities>({ startToCloseTimeout: '2 minutes', retry });
// Postgres and Temporal steps (marking the checkout, signalling the invoice).
const database = proxyActivities<InvoiceActivities>({ startToCloseTimeout: '1 minute', retry });

const errorText = (error: unknown) => (error instanceof ApplicationFailure || error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error));

export async function checkout(input: CheckoutInput): Promise<messages.CheckoutView> {
  const view: messages.CheckoutView = { ref: input.ref, status: 'creating', total: input.total, currency: input.currency };
  let placed: messages.PlacedOrder | undefined;
  let captureWanted: 'return' | 'buttons' | 'webhook' | undefined;
  /** Capture attempts that ended without an outcome (the order not approved yet). */
  let unanswered = 0;
  let outcome: CheckoutOutcome | undefined;
  const end = async (status: CheckoutOutcome['status'], change: Omit<CheckoutOutcome, 'status'> & { payerEmail?: string }) => {
    const { payerEmail, ...rest } = change;
    const final: CheckoutOutcome = { status, ...rest };
    Object.assign(view, final);
    await database.markCheckout({ ref: input.ref, ...final, payerEmail });
    // Answered only now, so whoever asked reads the checkout row as it ends; then the run closes.
    outcome = final;
    await condition(allHandlersFinished);
    return view;
  };

  setHandler(messages.checkoutState, () => view);
  setHandler(messages.placeOrder, async () => {
    await condition(() => placed !== undefined || outcome !== undefined);
    if (!placed) throw ApplicationFailure.nonRetryable(view.detail ?? 'PayPal did not create the order');
    return placed;
  });
  setHandler(messages.captureOrder, async ({ via }) => {
    const seen = unanswered;
    captureWanted ??= via;
    // Answered by the capture this request started or joined, or by its "not approved yet".
    await condition(() => outcome !== undefined || unanswered > seen);
    return outcome ?? { status: view.status, orderId: view.orderId, detail: view.detail };
  });
  setHandler(messages.orderApproved, ({ orderId }) => {
    if (orderId === view.orderId) captureWanted ??= 'webhook';
  });
  setHandler(messages.orderCancelled, () => {
    view.detail = 'The buyer cancelled at PayPal.';
  });

  try {
    placed = await paypal.createCheckoutOrder(input);
  } catch (error) {
    return end('failed', { detail: `PayPal did not create the order: ${errorText(error)}` });
  }
  const { orderId } = placed;
  Object.assign(view, { status: 'created', orderId });
  const lapsesAt = Date.now() + input.lifetimeSeconds * 1000;

  for (;;) {
    const remaining = lapsesAt - Date.now();
    if (remaining <= 0 || !(await condition(() => captureWanted !== undefined, remaining))) {
      return end('abandoned', { orderId, detail: 'The order was not approved at PayPal in time; nothing was charged.' });
    }
    view.approvedVia = captureWanted;
    const answer = await paypal.captureCheckoutOrder({ ref: input.ref, orderId, lines: input.lines }).catch((error: unknown) => ({ kind: 'failed' as const, detail: errorText(error) }));
    if (answer.kind === 'not-approved') {
      // The JS buttons or a return before the approval: wait for it.
      view.detail = answer.detail;
      captureWanted = undefined;
      unanswered += 1;
      continue;
    }
    if (answer.kind !== 'captured') return end(answer.kind, { orderId, detail: answer.detail });
    const n = answer.notification;
    await database.handOverToInvoice({ ref: input.ref, notification: n });
    const status = n.status === 'Completed' ? 'captured' : n.status === 'Pending' ? 'pending' : 'declined';
    return end(status, {
      orderId,
      captureId: n.txnId,
      pendingReason: n.pendingReason,
      payerEmail: n.payer.email || undefined,
      detail: status === 'declined' ? `PayPal reported the payment ${n.status}; no money was taken.` : undefined,
    });
  }
}
