// The intake notes a payment to another PayPal account; the invoice workflow decides what to do
// (it holds such a payment for review rather than delivering).
import type { PaymentNotification } from '../workflows/notification';

export function receiverNote(notification: PaymentNotification, receiverEmail: string): string | undefined {
  const receiver = notification.receiverEmail;
  if (receiver === undefined || receiver.toLowerCase() === receiverEmail.toLowerCase()) return undefined;
  return `receiver ${receiver} is not PAYPAL_RECEIVER_EMAIL ${receiverEmail}; the invoice workflow holds it for review`;
}
