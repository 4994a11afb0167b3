// What an intake did with one message, and the HTTP status PayPal gets for it: 200 when the message
// is settled (routed, duplicate or rejected), 503 when it must come again (PayPal resends).
import type { PaymentNotification } from '../workflows/notification';
import type { Outcome } from '../db/paypal-messages';

export interface IntakeResult {
  messageId: number;
  outcome: Outcome;
  detail?: string;
  status: 200 | 503;
  workflowId?: string;
  notification?: PaymentNotification;
}
