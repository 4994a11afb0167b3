// Asking PayPal where a payment stands, for a pending payment that went silent (a lost IPN must
// not strand a paid buyer). The PayPal intake provides the implementation (PDT _notify-synch, the
// REST API, or the local simulator); the workflow only sees the normalised answer.
import type { PaymentNotification } from '../workflows/notification';
import type { ActivityDeps } from './deps';

export interface PayPalStatusClient {
  /** The payment's status now, or undefined when PayPal does not know the transaction. */
  lookup(txnId: string): Promise<PaymentNotification | undefined>;
}

export async function askPayPalForStatus(deps: ActivityDeps, input: { txnId: string }): Promise<{ notification?: PaymentNotification }> {
  const notification = await deps.paypalStatus.lookup(input.txnId);
  return notification ? { notification } : {};
}
