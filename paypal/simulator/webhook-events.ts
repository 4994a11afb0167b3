// REST webhook deliveries as PayPal sends them: compact JSON, PAYPAL-* headers, and a SHA256withRSA
// signature over "<transmission id>|<time>|<webhook id>|<crc32>" made with the simulator's key.
import { randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { bodyCrc32 } from '../webhook-transmission';
import type { SimPayment } from './ledger';

const eventId = () => `WH-${randomBytes(8).toString('hex').toUpperCase().slice(0, 17)}-${randomBytes(8).toString('hex').toUpperCase().slice(0, 17)}`;

export interface SignedDelivery {
  eventId: string;
  eventType: string;
  raw: Buffer;
  headers: Record<string, string>;
  transmissionId: string;
  signature: string;
}

function captureEvent(payment: SimPayment, api: string, at: Date): { type: string; body: unknown } {
  const pending = payment.status === 'Pending';
  const type = pending ? 'PAYMENT.CAPTURE.PENDING' : 'PAYMENT.CAPTURE.COMPLETED';
  const id = eventId();
  return {
    type,
    body: {
      id,
      event_version: '1.0',
      create_time: at.toISOString(),
      resource_type: 'capture',
      resource_version: '2.0',
      event_type: type,
      summary: pending ? `Payment pending for ${payment.gross} ${payment.currency}` : `Payment completed for ${payment.gross} ${payment.currency}`,
      resource: {
        id: payment.txnId,
        amount: { currency_code: payment.currency, value: payment.gross },
        final_capture: true,
        status: pending ? 'PENDING' : 'COMPLETED',
        ...(pending ? { status_details: { reason: payment.method === 'echeck' ? 'ECHECK' : 'OTHER' } } : {}),
        ...(payment.custom ? { custom_id: payment.custom } : {}),
        ...(payment.invoice ? { invoice_id: payment.invoice } : {}),
        payee: { email_address: payment.business, merchant_id: payment.receiverId },
        create_time: payment.createdAt.toISOString(),
        update_time: at.toISOString(),
        links: [
          { href: `${api}/v2/payments/captures/${payment.txnId}`, rel: 'self', method: 'GET' },
          { href: `${api}/v2/payments/captures/${payment.txnId}/refund`, rel: 'refund', method: 'POST' },
        ],
      },
      links: [{ href: `${api}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' }],
    },
  };
}

function refundEvent(payment: SimPayment, child: SimPayment['children'][number], api: string, at: Date): { type: string; body: unknown } | undefined {
  const type = child.status === 'Refunded' ? 'PAYMENT.CAPTURE.REFUNDED' : child.status === 'Reversed' ? 'PAYMENT.CAPTURE.REVERSED' : undefined;
  if (!type) return undefined;
  const id = eventId();
  const value = child.gross.replace(/^-/, '');
  return {
    type,
    body: {
      id,
      event_version: '1.0',
      create_time: at.toISOString(),
      resource_type: 'refund',
      resource_version: '2.0',
      event_type: type,
      summary: `A ${value} ${payment.currency} capture payment was ${child.status === 'Refunded' ? 'refunded' : 'reversed'}`,
      resource: {
        id: child.txnId,
        amount: { currency_code: payment.currency, value },
        status: 'COMPLETED',
        reason_code: child.reasonCode.toUpperCase(),
        create_time: at.toISOString(),
        update_time: at.toISOString(),
        links: [
          { href: `${api}/v2/payments/refunds/${child.txnId}`, rel: 'self', method: 'GET' },
          { href: `${api}/v2/payments/captures/${payment.txnId}`, rel: 'up', method: 'GET' },
        ],
      },
      links: [{ href: `${api}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' }],
    },
  };
}

export function signDelivery(event: { type: string; body: unknown }, options: { webhookId: string; certUrl: string; privateKey: KeyObject; at?: Date }): SignedDelivery {
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

export const webhookEvents = { captureEvent, refundEvent };
