// REST dispute events (CUSTOMER.DISPUTE.CREATED / UPDATED / RESOLVED) -> PaymentNotification with
// status Disputed and the dispute's facts; the invoice's policy decides what they do. The disputed
// transaction's seller_transaction_id is the capture (IPN txn_id), so it reaches that invoice's run.
import type { DisputeFacts, PaymentNotification } from '../workflows/notification';
import type { Mapped } from './ipn-notification';

interface Money {
  value?: string;
  currency_code?: string;
}

/** The parts of PayPal's dispute resource Keyship reads. */
export interface DisputeResource {
  dispute_id?: string;
  create_time?: string;
  update_time?: string;
  reason?: string;
  status?: string;
  dispute_amount?: Money;
  disputed_transactions?: { seller_transaction_id?: string; buyer_transaction_id?: string; gross_amount?: Money; custom?: string }[];
  dispute_outcome?: { outcome_code?: string; amount_refunded?: Money };
}

export interface DisputeEvent {
  id?: string;
  event_type?: string;
  create_time?: string;
  resource?: DisputeResource;
}

const stages: Record<string, DisputeFacts['stage']> = {
  'CUSTOMER.DISPUTE.CREATED': 'created',
  'CUSTOMER.DISPUTE.UPDATED': 'updated',
  'CUSTOMER.DISPUTE.RESOLVED': 'resolved',
};

const outcomes: Record<string, DisputeFacts['outcome']> = {
  RESOLVED_SELLER_FAVOUR: 'seller',
  RESOLVED_BUYER_FAVOUR: 'buyer',
};

export function isDisputeEvent(type: string): boolean {
  return type.startsWith('CUSTOMER.DISPUTE.');
}

export function disputeToNotification(event: DisputeEvent, context: { messageId: number }): Mapped {
  const type = event.event_type ?? '';
  const stage = stages[type];
  if (!stage) return { ok: false, reason: `dispute event type ${type || '(none)'} is not one Keyship acts on; nothing to do` };
  const dispute = event.resource;
  if (!event.id || !dispute?.dispute_id) return { ok: false, reason: `${type} event without an event id or a dispute id` };
  const disputed = dispute.disputed_transactions?.find((t) => t.seller_transaction_id);
  const txnId = disputed?.seller_transaction_id;
  if (!txnId || !/^[A-Za-z0-9-]{1,64}$/.test(txnId)) return { ok: false, reason: `${type} event does not name the seller's transaction it disputes` };
  const amount = dispute.dispute_amount ?? disputed?.gross_amount;
  if (!amount?.value || !amount.currency_code) return { ok: false, reason: `${type} event has no dispute amount` };
  const outcomeCode = dispute.dispute_outcome?.outcome_code;
  const facts: DisputeFacts = {
    caseId: dispute.dispute_id,
    stage,
    reason: dispute.reason,
    status: dispute.status,
    outcome: stage === 'resolved' ? (outcomes[outcomeCode ?? ''] ?? 'other') : undefined,
    amount: amount.value,
  };
  const notification: PaymentNotification = {
    source: 'webhook',
    messageId: context.messageId,
    dedupeKey: `webhook:${event.id}`,
    txnId,
    eventTxnId: dispute.dispute_id,
    status: 'Disputed',
    reasonCode: outcomeCode?.toLowerCase(),
    // A dispute names neither the buyer's e-mail nor the items as Keyship records them.
    payer: { email: '' },
    items: [],
    gross: amount.value,
    currency: amount.currency_code,
    paymentDate: dispute.update_time ?? dispute.create_time ?? event.create_time,
    custom: disputed?.custom,
    dispute: facts,
  };
  return { ok: true, notification: JSON.parse(JSON.stringify(notification)) as PaymentNotification };
}
