// The notification the PayPal intake signals for a card purchase of the demo package, as the floor
// sends it straight to Temporal (so its signal carries the same payload as Keyship's).
import type { PaymentNotification } from '../workflows/notification';

export function cardNotification(txnId: string, email: string): PaymentNotification {
  return {
    source: 'ipn',
    messageId: 1,
    dedupeKey: `ipn:${txnId}`,
    txnId,
    eventTxnId: txnId,
    status: 'Completed',
    receiverEmail: 'seller@keyship.localhost',
    payer: { email, payerId: `PAYER${txnId.slice(0, 8)}`, firstName: 'Zoë', lastName: 'Müller' },
    items: [{ itemNumber: 'KS-DEMO-1', itemName: 'Keyship Field Guide (demo)', quantity: 1, gross: '9.00' }],
    gross: '9.00',
    currency: 'USD',
  };
}
