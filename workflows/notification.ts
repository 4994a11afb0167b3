// What the PayPal intake tells an invoice workflow, whatever the channel (IPN, REST webhook, PDT,
// or a status poll). The intake stores the raw message first and sends only this normalised form.

/** PayPal's payment_status values; REST events are mapped onto the same words. */
export type PaymentStatus =
  | 'Pending'
  | 'Completed'
  | 'Denied'
  | 'Declined'
  | 'Failed'
  | 'Expired'
  | 'Voided'
  | 'Refunded'
  | 'Reversed'
  | 'Canceled_Reversal'
  | 'Created'
  | 'Processed'
  /** A buyer opened, updated or closed a dispute (REST CUSTOMER.DISPUTE.*); `dispute` says which. */
  | 'Disputed';

/** A dispute's facts as PayPal states them; the invoice's policy decides what they do. */
export interface DisputeFacts {
  caseId: string;
  stage: 'created' | 'updated' | 'resolved';
  /** PayPal's reason (MERCHANDISE_OR_SERVICE_NOT_RECEIVED, UNAUTHORISED, chargeback, ...). */
  reason?: string;
  /** PayPal's status of the case (OPEN, WAITING_FOR_SELLER_RESPONSE, RESOLVED, ...). */
  status?: string;
  /** Set when resolved: in whose favour. */
  outcome?: 'seller' | 'buyer' | 'other';
  /** Decimal string: the amount disputed. */
  amount?: string;
}

export interface NotificationItem {
  itemNumber: string;
  itemName?: string;
  quantity: number;
  /** Decimal string, as PayPal wrote it (e.g. "19.95"). */
  gross?: string;
}

export interface PaymentNotification {
  /** rest: PayPal's REST answer to Keyship's own call (a PayPal Checkout capture, a refund). */
  source: 'ipn' | 'webhook' | 'pdt' | 'poll' | 'rest';
  /** paypal_messages.id of the stored raw copy (0 when a poll answer was not stored). */
  messageId: number;
  /** Unique per PayPal message: ipn_track_id, the webhook event id, ... A repeat is ignored. */
  dedupeKey: string;
  /** The payment this invoice is about: txn_id, or parent_txn_id on refunds and reversals. */
  txnId: string;
  /** This message's own transaction id (the refund's id on a refund). */
  eventTxnId: string;
  status: PaymentStatus;
  pendingReason?: string;
  /** reason_code on refunds and reversals (chargeback, refund, buyer-complaint, ...). */
  reasonCode?: string;
  receiverEmail?: string;
  receiverId?: string;
  payer: { email: string; payerId?: string; firstName?: string; lastName?: string };
  items: NotificationItem[];
  /** Decimal strings; negative on refunds and reversals. */
  gross: string;
  currency: string;
  /** ISO 8601. */
  paymentDate?: string;
  custom?: string;
  /** Set on dispute messages (status Disputed). */
  dispute?: DisputeFacts;
  /** True when the message came from PayPal's sandbox (informational: never decides verification). */
  sandbox?: boolean;
}
