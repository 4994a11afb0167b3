// REST dispute events, shaped as PayPal's OpenAPI description of customer disputes writes them,
// mapped to the notification an invoice run receives; through webhookToNotification, as the
// webhook intake calls it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webhookToNotification, type WebhookEvent } from '../../paypal/webhook-notification';

function disputeEvent(type: string, resource: Record<string, unknown> = {}): WebhookEvent {
  return {
    id: 'WH-4M0448861G563140B-9EX36365822141321',
    event_version: '1.0',
    create_time: '2030-06-02T10:00:00.000Z',
    resource_type: 'dispute',
    event_type: type,
    summary: 'A new dispute opened with Case # PP-D-27803',
    resource: {
      dispute_id: 'PP-D-27803',
      create_time: '2030-06-02T09:59:00.000Z',
      update_time: '2030-06-02T10:00:00.000Z',
      disputed_transactions: [
        { buyer_transaction_id: '4FU08746L08571346', seller_transaction_id: '3BC38643YC807283D', create_time: '2030-06-01T00:00:00.000Z', transaction_status: 'COMPLETED', gross_amount: { currency_code: 'USD', value: '19.95' }, custom: 'cart-7' },
      ],
      reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED',
      status: 'OPEN',
      dispute_amount: { currency_code: 'USD', value: '19.95' },
      dispute_life_cycle_stage: 'INQUIRY',
      dispute_channel: 'INTERNAL',
      links: [{ href: 'https://api-m.sandbox.paypal.com/v1/customer/disputes/PP-D-27803', rel: 'self', method: 'GET' }],
      ...resource,
    },
  } as unknown as WebhookEvent;
}

test('CUSTOMER.DISPUTE.CREATED names the seller transaction, the case and its amount', () => {
  const mapped = webhookToNotification(disputeEvent('CUSTOMER.DISPUTE.CREATED'), { messageId: 41 });
  assert.ok(mapped.ok, JSON.stringify(mapped));
  const n = mapped.notification;
  assert.deepEqual(
    { source: n.source, messageId: n.messageId, dedupeKey: n.dedupeKey, txnId: n.txnId, eventTxnId: n.eventTxnId, status: n.status, gross: n.gross, currency: n.currency, custom: n.custom },
    { source: 'webhook', messageId: 41, dedupeKey: 'webhook:WH-4M0448861G563140B-9EX36365822141321', txnId: '3BC38643YC807283D', eventTxnId: 'PP-D-27803', status: 'Disputed', gross: '19.95', currency: 'USD', custom: 'cart-7' },
  );
  assert.deepEqual(n.dispute, { caseId: 'PP-D-27803', stage: 'created', reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED', status: 'OPEN', amount: '19.95' });
});

test('CUSTOMER.DISPUTE.UPDATED and RESOLVED: the stage, and the outcome in whose favour', () => {
  const cases: [type: string, outcomeCode: string | undefined, stage: string, outcome: string | undefined][] = [
    ['CUSTOMER.DISPUTE.UPDATED', undefined, 'updated', undefined],
    ['CUSTOMER.DISPUTE.RESOLVED', 'RESOLVED_SELLER_FAVOUR', 'resolved', 'seller'],
    ['CUSTOMER.DISPUTE.RESOLVED', 'RESOLVED_BUYER_FAVOUR', 'resolved', 'buyer'],
    ['CUSTOMER.DISPUTE.RESOLVED', 'CANCELED_BY_BUYER', 'resolved', 'other'],
    ['CUSTOMER.DISPUTE.RESOLVED', undefined, 'resolved', 'other'],
  ];
  for (const [type, code, stage, outcome] of cases) {
    const mapped = webhookToNotification(disputeEvent(type, code ? { status: 'RESOLVED', dispute_outcome: { outcome_code: code, amount_refunded: { currency_code: 'USD', value: '19.95' } } } : {}), { messageId: 1 });
    assert.ok(mapped.ok, `${type} ${code}`);
    assert.equal(mapped.notification.dispute?.stage, stage, `${type} ${code}`);
    assert.equal(mapped.notification.dispute?.outcome, outcome, `${type} ${code}`);
  }
});

test('a dispute event that names no seller transaction, no case or no amount is refused with a reason', () => {
  const cases: [WebhookEvent, RegExp][] = [
    [disputeEvent('CUSTOMER.DISPUTE.CREATED', { disputed_transactions: [{ buyer_transaction_id: 'B1' }] }), /does not name the seller's transaction/],
    [disputeEvent('CUSTOMER.DISPUTE.CREATED', { dispute_id: undefined }), /without an event id or a dispute id/],
    [disputeEvent('CUSTOMER.DISPUTE.CREATED', { dispute_amount: undefined, disputed_transactions: [{ seller_transaction_id: 'S1' }] }), /no dispute amount/],
    [disputeEvent('CUSTOMER.DISPUTE.OTHER'), /not one Keyship acts on/],
  ];
  for (const [event, reason] of cases) {
    const mapped = webhookToNotification(event, { messageId: 1 });
    assert.ok(!mapped.ok);
    assert.match(mapped.reason, reason);
  }
});
