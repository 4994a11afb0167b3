// IPN bodies as PayPal writes them: its field names and order, its date format, Java-style form
// encoding ("+" for space) in the payment's charset (windows-1252 unless the button asked otherwise).
import { randomBytes } from 'node:crypto';
import { encodeIpnForm } from '../ipn-form';
import { formatPayPalDate } from '../payment-date';
import type { SimChild, SimPayment } from './ledger';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const money = (n: number) => n.toFixed(2);

/** PayPal's fee schedule, near enough for a simulator: 2.9% + 0.30. */
export function fee(gross: number): string {
  return money(Math.round((gross * 0.029 + 0.3) * 100) / 100);
}

function paymentFields(payment: SimPayment, at: Date): [string, string][] {
  const gross = Number(payment.gross);
  const fields: [string, string][] = [
    ['mc_gross', payment.gross],
    ['protection_eligibility', 'Ineligible'],
    ['payer_id', payment.payer.payerId],
    ['payment_date', formatPayPalDate(at)],
    ['payment_status', payment.status],
    ['charset', payment.charset],
    ['first_name', payment.payer.firstName],
    ['mc_fee', fee(gross)],
    ['notify_version', '3.9'],
    ['custom', payment.custom ?? ''],
    ['payer_status', 'verified'],
    ['business', payment.business],
  ];
  if (!payment.cart) fields.push(['quantity', String(payment.items[0]?.quantity ?? 1)]);
  fields.push(
    ['verify_sign', hex(28)],
    ['payer_email', payment.payer.email],
    ['txn_id', payment.txnId],
    ['payment_type', payment.method === 'echeck' ? 'echeck' : 'instant'],
    ['last_name', payment.payer.lastName],
    ['receiver_email', payment.business],
    ['payment_fee', payment.currency === 'USD' ? fee(gross) : ''],
    ['receiver_id', payment.receiverId],
    // PayPal Checkout payments come as express_checkout, their items numbered like a cart's.
    ['txn_type', payment.orderId ? 'express_checkout' : payment.cart ? 'cart' : 'web_accept'],
  );
  if (payment.cart) {
    fields.push(['num_cart_items', String(payment.items.length)]);
    payment.items.forEach((item, index) => {
      const i = index + 1;
      fields.push(
        [`item_name${i}`, item.itemName],
        [`item_number${i}`, item.itemNumber],
        [`quantity${i}`, String(item.quantity)],
        [`mc_gross_${i}`, money(Number(item.amount) * item.quantity)],
      );
    });
  } else {
    fields.push(['item_name', payment.items[0]?.itemName ?? ''], ['item_number', payment.items[0]?.itemNumber ?? '']);
  }
  fields.push(['mc_currency', payment.currency], ['residence_country', 'US']);
  if (payment.invoice) fields.push(['invoice', payment.invoice]);
  if (payment.status === 'Pending') fields.push(['pending_reason', payment.method === 'echeck' ? 'echeck' : 'other']);
  if (payment.environment === 'sandbox') fields.push(['test_ipn', '1']);
  fields.push(['transaction_subject', payment.items[0]?.itemName ?? ''], ['payment_gross', payment.currency === 'USD' ? payment.gross : ''], ['ipn_track_id', hex(7).slice(0, 13)]);
  return fields;
}

/** A later transaction about the payment: a refund, a reversal or a cancelled reversal. */
function childFields(payment: SimPayment, child: SimChild, at: Date): [string, string][] {
  const gross = Number(child.gross);
  const fields: [string, string][] = [
    ['mc_gross', child.gross],
    ['protection_eligibility', 'Ineligible'],
    ['payer_id', payment.payer.payerId],
    ['payment_date', formatPayPalDate(at)],
    ['payment_status', child.status],
    ['charset', payment.charset],
    ['first_name', payment.payer.firstName],
    ['mc_fee', money(gross < 0 ? -Number(fee(-gross)) : Number(fee(gross)))],
    ['notify_version', '3.9'],
    ['reason_code', child.reasonCode],
    ['custom', payment.custom ?? ''],
    ['business', payment.business],
    ['verify_sign', hex(28)],
    ['payer_email', payment.payer.email],
    ['parent_txn_id', payment.txnId],
    ['txn_id', child.txnId],
    ['payment_type', payment.method === 'echeck' ? 'echeck' : 'instant'],
    ['last_name', payment.payer.lastName],
    ['receiver_email', payment.business],
    ['receiver_id', payment.receiverId],
  ];
  // Refunds and reversals often come without txn_type; the item fields stay.
  if (payment.cart) {
    payment.items.forEach((item, index) => fields.push([`item_name${index + 1}`, item.itemName], [`item_number${index + 1}`, item.itemNumber]));
  } else {
    fields.push(['item_name', payment.items[0]?.itemName ?? ''], ['item_number', payment.items[0]?.itemNumber ?? '']);
  }
  fields.push(['mc_currency', payment.currency], ['residence_country', 'US']);
  if (payment.environment === 'sandbox') fields.push(['test_ipn', '1']);
  fields.push(['payment_gross', payment.currency === 'USD' ? child.gross : ''], ['ipn_track_id', hex(7).slice(0, 13)]);
  return fields;
}

export function paymentIpn(payment: SimPayment, at = new Date()): Buffer {
  return encodeIpnForm(paymentFields(payment, at), payment.charset);
}

export function childIpn(payment: SimPayment, child: SimChild, at = new Date()): Buffer {
  return encodeIpnForm(childFields(payment, child, at), payment.charset);
}

/** The PDT answer: SUCCESS and the payment's fields now, one form-escaped key=value per line. */
export function pdtSuccess(payment: SimPayment): Buffer {
  const lines = encodeIpnForm(paymentFields(payment, payment.createdAt), payment.charset).toString('latin1').split('&');
  return Buffer.from(`SUCCESS\n${lines.join('\n')}\n`, 'latin1');
}
