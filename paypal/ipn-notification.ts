// IPN (and PDT) fields -> the PaymentNotification the invoice workflow understands. Only maps; it
// decides nothing about whether the payment matches a package (that is the workflow's job).
import type { NotificationItem, PaymentNotification, PaymentStatus } from '../workflows/notification';
import { parsePayPalDate } from './payment-date';

const statuses: PaymentStatus[] = [
  'Pending', 'Completed', 'Denied', 'Declined', 'Failed', 'Expired', 'Voided', 'Refunded', 'Reversed', 'Canceled_Reversal', 'Created', 'Processed',
];

export type Mapped = { ok: true; notification: PaymentNotification } | { ok: false; reason: string };

export interface MapContext {
  source: PaymentNotification['source'];
  messageId: number;
  dedupeKey: string;
}

function items(fields: Record<string, string>): NotificationItem[] {
  let cartCount = Number(fields.num_cart_items ?? '0') || 0;
  if (fields.txn_type === 'cart' && cartCount === 0) {
    while (fields[`item_number${cartCount + 1}`] !== undefined || fields[`item_name${cartCount + 1}`] !== undefined) cartCount++;
  }
  if (cartCount > 0) {
    return Array.from({ length: cartCount }, (_, index) => {
      const i = index + 1;
      return {
        itemNumber: fields[`item_number${i}`] ?? '',
        itemName: fields[`item_name${i}`],
        quantity: Number(fields[`quantity${i}`] ?? '1') || 1,
        // Cart IPNs write mc_gross_1, older ones mc_gross1.
        gross: fields[`mc_gross_${i}`] ?? fields[`mc_gross${i}`],
      };
    });
  }
  if (fields.item_number === undefined && fields.item_name === undefined) return [];
  return [{ itemNumber: fields.item_number ?? '', itemName: fields.item_name, quantity: Number(fields.quantity ?? '1') || 1, gross: fields.mc_gross }];
}

/**
 * payer_email is one address. Anything after a space, line break, comma or semicolon would reach
 * the e-mails' To header and envelope as another recipient (a CR/LF "Bcc:" was mailed), so it ends there.
 */
function oneAddress(value: string | undefined): string {
  return (value ?? '').trim().split(/[\s,;<>\0]/)[0] ?? '';
}

function optional(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** IPN `payment_status` values PayPal writes in other spellings. */
function status(text: string | undefined): PaymentStatus | undefined {
  if (!text) return undefined;
  const found = statuses.find((s) => s.toLowerCase() === text.toLowerCase().replace('canceled-reversal', 'canceled_reversal'));
  return found;
}

export function ipnToNotification(fields: Record<string, string>, context: MapContext): Mapped {
  const eventTxnId = optional(fields.txn_id);
  if (!eventTxnId) return { ok: false, reason: `no txn_id (txn_type ${fields.txn_type ?? 'missing'}): not about a payment, nothing to deliver` };
  const paymentStatus = status(fields.payment_status);
  if (!paymentStatus) return { ok: false, reason: `payment_status "${fields.payment_status ?? ''}" is not one Keyship knows` };
  const parent = optional(fields.parent_txn_id);
  // Refunds, reversals and cancelled reversals carry a new txn_id; the payment is the parent.
  const txnId = parent ?? eventTxnId;
  if (!/^[A-Za-z0-9-]{1,64}$/.test(txnId)) return { ok: false, reason: `transaction id "${txnId.slice(0, 70)}" is not a PayPal transaction id` };
  const gross = optional(fields.mc_gross) ?? optional(fields.payment_gross);
  const currency = optional(fields.mc_currency);
  if (gross === undefined || currency === undefined) return { ok: false, reason: 'no mc_gross or mc_currency: cannot tell what was paid' };
  const notification: PaymentNotification = {
    source: context.source,
    messageId: context.messageId,
    dedupeKey: context.dedupeKey,
    txnId,
    eventTxnId,
    status: paymentStatus,
    pendingReason: optional(fields.pending_reason),
    reasonCode: optional(fields.reason_code),
    receiverEmail: optional(fields.receiver_email) ?? optional(fields.business),
    receiverId: optional(fields.receiver_id),
    payer: {
      email: oneAddress(fields.payer_email),
      payerId: optional(fields.payer_id),
      firstName: optional(fields.first_name),
      lastName: optional(fields.last_name),
    },
    items: items(fields),
    gross,
    currency,
    paymentDate: parsePayPalDate(fields.payment_date),
    custom: optional(fields.custom),
    sandbox: fields.test_ipn === '1',
  };
  // JSON has no undefined; dropping the keys keeps signal payloads and stored copies tidy.
  return { ok: true, notification: JSON.parse(JSON.stringify(notification)) as PaymentNotification };
}
