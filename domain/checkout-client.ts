// The one code that talks to checkout workflows: the api starts one when a buyer presses Buy and
// asks it to capture when the buyer is back; the webhook intake tells it the order was approved.
// Not workflow code: it uses @temporalio/client.
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { CheckoutInput, CheckoutOutcome } from './checkout';
import { checkoutWorkflowId, checkoutWorkflowType } from './invoice-ids';
import type { checkout } from '../workflows/checkout';
import * as messages from '../workflows/checkout-messages';

/** Starts the checkout and answers once PayPal has the order (its id and approve link). */
export async function startCheckout(client: Client, taskQueue: string, input: CheckoutInput): Promise<messages.PlacedOrder> {
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof checkout>(checkoutWorkflowType, {
    workflowId: checkoutWorkflowId(input.ref),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `PayPal Checkout ${input.ref}: ${input.lines.map((l) => `${l.quantity} × ${l.itemNumber}`).join(', ')} for ${input.total} ${input.currency}`,
  });
  return client.workflow.executeUpdateWithStart(messages.placeOrder, { args: [], startWorkflowOperation });
}

/** Captures (once, whoever asks first) and answers the outcome; a closed checkout answers its result. */
export async function captureCheckout(client: Client, ref: string, via: 'return' | 'buttons'): Promise<CheckoutOutcome> {
  const handle = client.workflow.getHandle<typeof checkout>(checkoutWorkflowId(ref));
  try {
    return await handle.executeUpdate(messages.captureOrder, { args: [{ via }] });
  } catch (error) {
    // The run has closed (captured from the webhook, lapsed): its result is the outcome.
    const description = await handle.describe().catch(() => undefined);
    if (description && description.status.name !== 'RUNNING') return handle.result();
    throw error;
  }
}

/** PayPal's CHECKOUT.ORDER.APPROVED: false when no checkout of that ref is running any more. */
export async function signalOrderApproved(client: Client, ref: string, orderId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(checkoutWorkflowId(ref)).signal(messages.orderApproved, { orderId });
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'WorkflowNotFoundError') return false;
    throw error;
  }
}

export async function signalOrderCancelled(client: Client, ref: string): Promise<void> {
  await client.workflow
    .getHandle(checkoutWorkflowId(ref))
    .signal(messages.orderCancelled)
    .catch((error: unknown) => {
      if (!(error instanceof Error && error.name === 'WorkflowNotFoundError')) throw error;
    });
}
