// REST webhook deliveries as PayPal sends them: compact JSON, PAYPAL-* headers, and a SHA256withRSA
// signature over "<transmission id>|<time>|<webhook id>|<crc32>" made with the simulator's key. The
// resources are the ones the REST API answers (orders.ts), as in PayPal's own deliveries.
import { randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { bodyCrc32 } from '../webhook-transmission';
import type { SimChild, SimDispute, SimOrder, SimPayment } from './ledger';
import { captureResource, captureStatus, disputeResource, orderResource, refundResource } from './orders';

const eventId = () => `WH-${randomBytes(8).toString('hex').toUpperCase().slice(0, 17)}-${randomBytes(8).toString('hex').toUpperCase().slice(0, 17)}`;

export interface SignedDelivery {
  eventId: string;
  eventType: string;
  raw: Buffer;
  headers: Record<string, string>;
  transmissionId: string;
  signature: string;
}

export interface WebhookEvent {
  type: string;
  body: unknown;
}

function envelope(type: string, resourceType: string, resourceVersion: string, summary: string, resource: unknown, api: string, at: Date): WebhookEvent {
  const id = eventId();
  return {
    type,
    body: {
      id,
      event_version: '1.0',
      create_time: at.toISOString(),
      resource_type: resourceType,
      resource_version: resourceVersion,
      event_type: type,
      summary,
      resource,
      links: [
        { href: `${api}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' },
        { href: `${api}/v1/notifications/webhooks-events/${id}/resend`, rel: 'resend', method: 'POST' },
      ],
    },
  };
}

/** PAYMENT.CAPTURE.COMPLETED, PENDING or DECLINED, with the capture as Payments v2 shows it. */
function captureEvent(payment: SimPayment, api: string, at: Date): WebhookEvent {
  const status = captureStatus(payment);
  const type = status === 'PENDING' ? 'PAYMENT.CAPTURE.PENDING' : status === 'DECLINED' ? 'PAYMENT.CAPTURE.DECLINED' : 'PAYMENT.CAPTURE.COMPLETED';
  const word = { PENDING: 'pending', DECLINED: 'declined' }[status as string] ?? 'completed';
  return envelope(type, 'capture', '2.0', `Payment ${word} for ${payment.gross} ${payment.currency}`, captureResource(payment, api, 'payments'), api, at);
}

/** PAYMENT.CAPTURE.REFUNDED or REVERSED: the resource is the refund, its `up` link the capture. */
function refundEvent(payment: SimPayment, child: SimChild, api: string, at: Date): WebhookEvent | undefined {
  const type = child.status === 'Refunded' ? 'PAYMENT.CAPTURE.REFUNDED' : child.status === 'Reversed' ? 'PAYMENT.CAPTURE.REVERSED' : undefined;
  if (!type) return undefined;
  const value = child.gross.replace(/^-/, '');
  const summary = `A ${value} ${payment.currency} capture payment was ${child.status === 'Refunded' ? 'refunded' : 'reversed'}`;
  return envelope(type, 'refund', '2.0', summary, refundResource(payment, child, api), api, at);
}

/** CHECKOUT.ORDER.APPROVED: the order as GET shows it once the buyer approved. */
function orderApprovedEvent(order: SimOrder, api: string, at: Date): WebhookEvent {
  return envelope('CHECKOUT.ORDER.APPROVED', 'checkout-order', '2.0', 'An order has been approved by buyer', orderResource(order, undefined, api), api, at);
}

/** CUSTOMER.DISPUTE.CREATED, UPDATED or RESOLVED, with the dispute as the Disputes API shows it. */
function disputeEvent(change: 'CREATED' | 'UPDATED' | 'RESOLVED', dispute: SimDispute, payment: SimPayment, api: string, at: Date): WebhookEvent {
  const summary = { CREATED: 'A new dispute opened with Case #', UPDATED: 'A dispute was updated with Case #', RESOLVED: 'A dispute was resolved with case #' }[change];
  return envelope(`CUSTOMER.DISPUTE.${change}`, 'dispute', '1.0', `${summary} ${dispute.id}`, disputeResource(dispute, payment, api), api, at);
}

export function signDelivery(event: WebhookEvent, options: { webhookId: string; certUrl: string; privateKey: KeyObject; at?: Date }): SignedDelivery {
  const raw = Buffer.from(JSON.stringify(event.body), 'utf8');
  const transmissionId = randomUUID();
  // PayPal writes the transmission time to the second.
  const time = (options.at ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const signature = sign('sha256', Buffer.from(`${transmissionId}|${time}|${options.webhookId}|${bodyCrc32(raw)}`), options.privateKey).toString('base64');
  return {
    eventId: (event.body as { id: string }).id,
    eventType: event.type,
    raw,
    transmissionId,
    signature,
    headers: {
      'content-type': 'application/json',
      'paypal-transmission-id': transmissionId,
      'paypal-transmission-time': time,
      'paypal-transmission-sig': signature,
      'paypal-cert-url': options.certUrl,
      'paypal-auth-algo': 'SHA256withRSA',
      'paypal-auth-version': 'v2',
      'user-agent': 'PayPal/AUHD-214.0-Keyship-Simulator',
    },
  };
}

export const webhookEvents = { captureEvent, refundEvent, orderApprovedEvent, disputeEvent };
