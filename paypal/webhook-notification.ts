// REST webhook events -> PaymentNotification. Payments v2 captures (and the older v1 sales) map onto
// IPN's words; the capture (or sale) id is the IPN txn_id, so both channels reach one workflow.
import { outgoingAmount } from '../domain/money';
import type { PaymentNotification, PaymentStatus } from '../workflows/notification';
import type { Mapped } from './ipn-notification';
import { disputeToNotification, isDisputeEvent } from './webhook-dispute';

interface Money {
  value?: string;
  currency_code?: string;
  total?: string;
  currency?: string;
}

interface Link {
  href?: string;
  rel?: string;
}

export interface WebhookEvent {
  id?: string;
  event_type?: string;
  create_time?: string;
  resource_type?: string;
  resource?: {
    id?: string;
    status?: string;
    state?: string;
    amount?: Money;
    status_details?: { reason?: string };
    reason_code?: string;
    custom_id?: string;
    custom?: string;
    invoice_id?: string;
    sale_id?: string;
    create_time?: string;
    payee?: { email_address?: string; merchant_id?: string };
    links?: Link[];
  };
  links?: Link[];
}

const eventStatus: Record<string, PaymentStatus> = {
  'PAYMENT.CAPTURE.COMPLETED': 'Completed',
  'PAYMENT.CAPTURE.PENDING': 'Pending',
  'PAYMENT.CAPTURE.DENIED': 'Denied',
  'PAYMENT.CAPTURE.DECLINED': 'Declined',
  'PAYMENT.CAPTURE.REFUNDED': 'Refunded',
  'PAYMENT.CAPTURE.REVERSED': 'Reversed',
  'PAYMENT.SALE.COMPLETED': 'Completed',
  'PAYMENT.SALE.PENDING': 'Pending',
  'PAYMENT.SALE.DENIED': 'Denied',
  'PAYMENT.SALE.REFUNDED': 'Refunded',
  'PAYMENT.SALE.REVERSED': 'Reversed',
};

/** The capture a refund belongs to: its `up` link ends in /captures/<id>. */
function parentCaptureId(links: Link[] | undefined): string | undefined {
  const up = links?.find((link) => link.rel === 'up' && /\/captures\/[^/]+$/.test(link.href ?? ''));
  return up?.href?.split('/').pop();
}

export function webhookToNotification(event: WebhookEvent, context: { messageId: number }): Mapped {
  const type = event.event_type ?? '';
  if (isDisputeEvent(type)) return disputeToNotification(event, context);
  const status = eventStatus[type];
  if (!status) return { ok: false, reason: `event type ${type || '(none)'} is not about a captured payment; nothing to do` };
  const resource = event.resource;
  if (!event.id || !resource?.id) return { ok: false, reason: `${type} event without an event id or a resource id` };
  const refund = status === 'Refunded' || status === 'Reversed';
  const txnId = refund ? (resource.sale_id ?? parentCaptureId(resource.links)) : resource.id;
  if (!txnId || !/^[A-Za-z0-9-]{1,64}$/.test(txnId)) return { ok: false, reason: `${type} event does not name the payment it is about` };
  const value = resource.amount?.value ?? resource.amount?.total;
  const currency = resource.amount?.currency_code ?? resource.amount?.currency;
  if (!value || !currency) return { ok: false, reason: `${type} event has no amount` };
  const hrefs = [...(event.links ?? []), ...(resource.links ?? [])].map((link) => link.href ?? '');
  const notification: PaymentNotification = {
    source: 'webhook',
    messageId: context.messageId,
    dedupeKey: `webhook:${event.id}`,
    txnId,
    eventTxnId: resource.id,
    status,
    pendingReason: status === 'Pending' ? resource.status_details?.reason?.toLowerCase() ?? 'other' : undefined,
    reasonCode: refund ? resource.reason_code?.toLowerCase() : undefined,
    receiverEmail: resource.payee?.email_address,
    receiverId: resource.payee?.merchant_id,
    // A capture event names neither the buyer nor the items: the invoice asks PayPal (the REST API's capture and order, or PDT), or waits for the IPN.
    payer: { email: '' },
    items: [],
    gross: refund ? outgoingAmount(value) : value,
    currency,
    paymentDate: resource.create_time ?? event.create_time,
    custom: resource.custom_id ?? resource.custom,
    sandbox: hrefs.some((href) => href.includes('.sandbox.paypal.com')),
  };
  return { ok: true, notification: JSON.parse(JSON.stringify(notification)) as PaymentNotification };
}
