// A captured Orders v2 order -> PaymentNotification, the invoice workflow's one input shape. The
// capture id is the transaction id (IPN's txn_id), so the invoice is the same whichever channel
// (capture answer, webhook, IPN, a status lookup) tells it first.
import type { NotificationItem, PaymentNotification, PaymentStatus } from '../../workflows/notification';
import { orderCapture, type Capture, type Order } from './orders';

const captureStatus: Record<Capture['status'], PaymentStatus> = {
  COMPLETED: 'Completed',
  PARTIALLY_REFUNDED: 'Completed',
  PENDING: 'Pending',
  DECLINED: 'Declined',
  FAILED: 'Failed',
  REFUNDED: 'Refunded',
};

export function captureNotificationStatus(capture: Capture): { status: PaymentStatus; pendingReason?: string } {
  const status = captureStatus[capture.status];
  return status === 'Pending' ? { status, pendingReason: capture.status_details?.reason?.toLowerCase() ?? 'other' } : { status };
}

/**
 * What the order says about its capture, buyer and items; undefined when it has no capture yet.
 * `items` stands in when the order's answer lists none (PayPal omits them from some answers).
 */
export function orderToNotification(
  order: Order,
  context: { source: PaymentNotification['source']; messageId: number; dedupeKey?: string; items?: NotificationItem[]; sandbox?: boolean },
): PaymentNotification | undefined {
  const capture = orderCapture(order);
  if (!capture) return undefined;
  const unit = order.purchase_units?.[0];
  const paypal = order.payment_source?.paypal;
  const { status, pendingReason } = captureNotificationStatus(capture);
  const items: NotificationItem[] =
    unit?.items?.map((item) => ({
      itemNumber: item.sku ?? item.name,
      itemName: item.name,
      quantity: Number(item.quantity),
      gross: (Number(item.unit_amount.value) * Number(item.quantity)).toFixed(2),
    })) ??
    context.items ??
    [];
  const amount = capture.amount ?? unit?.amount;
  const notification: PaymentNotification = {
    source: context.source,
    messageId: context.messageId,
    dedupeKey: context.dedupeKey ?? `capture:${capture.id}:${capture.status}`,
    txnId: capture.id,
    eventTxnId: capture.id,
    status,
    pendingReason,
    receiverEmail: unit?.payee?.email_address,
    receiverId: unit?.payee?.merchant_id,
    payer: {
      email: paypal?.email_address ?? order.payer?.email_address ?? '',
      payerId: paypal?.account_id ?? order.payer?.payer_id,
      firstName: paypal?.name?.given_name ?? order.payer?.name?.given_name,
      lastName: paypal?.name?.surname ?? order.payer?.name?.surname,
    },
    items,
    gross: amount?.value ?? '0.00',
    currency: amount?.currency_code ?? '',
    paymentDate: capture.create_time,
    custom: capture.custom_id ?? unit?.custom_id,
    sandbox: context.sandbox,
  };
  // Undefined fields out, as every notification that crosses into a workflow.
  return JSON.parse(JSON.stringify(notification)) as PaymentNotification;
}
