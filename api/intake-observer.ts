// What the api records about each PayPal message it takes in: the notifications counter, and the
// workflow id and outcome on the request's log line.
import type { Context } from 'hono';
import type { IntakeResult } from '../paypal/intake-result';
import { paypalNotifications } from './metrics';
import { addLogFields } from './request-log';

const sourceOf = (c: Context) => (c.req.path.endsWith('/webhook') ? 'webhook' : 'ipn');

export function observeIntake(c: Context, result: IntakeResult): void {
  paypalNotifications.inc({ source: sourceOf(c), outcome: result.outcome });
  addLogFields(c, { paypalMessageId: result.messageId, outcome: result.outcome, ...(result.workflowId ? { workflowId: result.workflowId } : {}) });
}

/** A message that could not even be stored (Postgres away): counted, so an alert can see PayPal's resends pile up. */
export function observeUnstored(c: Context, reason: string): void {
  paypalNotifications.inc({ source: sourceOf(c), outcome: 'unstored' });
  addLogFields(c, { outcome: 'unstored', reason });
}
