// The shared last step of every channel: a verified, mapped notification goes to its invoice
// workflow once; Temporal being unreachable leaves the message marked for PayPal's resend.
import type { Pool } from '../db/pool';
import { invoiceWorkflowId } from '../domain/invoice-ids';
import type { PaymentNotification } from '../workflows/notification';
import { TemporalUnavailableError, type InvoiceSignaller } from './invoice-signal';
import type { IntakeResult } from './intake-result';
import { recordOutcome, type Judged } from '../db/paypal-messages';
import { routeOnce } from './message-store';
import type { PhaseTimes } from './phase-times';

export async function routeVerified(
  pool: Pool,
  signal: InvoiceSignaller,
  messageId: number,
  notification: PaymentNotification,
  judged: Judged,
  note?: string,
  times?: PhaseTimes,
): Promise<IntakeResult> {
  const workflowId = invoiceWorkflowId(notification.txnId);
  // Laps: 'dedupe' (the transaction's lock and look-up), 'signal' (Temporal), 'commit' (the outcome written).
  const send = async () => {
    times?.lap('dedupe');
    await signal(notification);
    times?.lap('signal');
  };
  try {
    const routed = await routeOnce(pool, messageId, notification, workflowId, send, judged, note);
    times?.lap(routed.outcome === 'routed' ? 'commit' : 'dedupe');
    const detail = routed.outcome === 'duplicate' ? `same message as #${routed.firstId}, already routed` : note;
    return { messageId, outcome: routed.outcome, detail, status: 200, workflowId, notification };
  } catch (error) {
    if (!(error instanceof TemporalUnavailableError)) throw error;
    await recordOutcome(pool, messageId, 'retry', error.message, judged);
    return { messageId, outcome: 'retry', detail: error.message, status: 503, workflowId, notification };
  }
}
