// What the api records about each PayPal message it takes in: the notifications counter; the
// workflow id, outcome and time per phase on the request's log line; the phases as Server-Timing.
import type { Context } from 'hono';
import type { IntakeResult } from '../paypal/intake-result';
import type { PhaseTimes } from '../paypal/phase-times';
import { paypalNotifications } from './metrics';
import { addLogFields } from './request-log';

const sourceOf = (c: Context) => (c.req.path.endsWith('/webhook') ? 'webhook' : 'ipn');

export function observeIntake(c: Context, result: IntakeResult, times?: PhaseTimes): void {
  paypalNotifications.inc({ source: sourceOf(c), outcome: result.outcome });
  addLogFields(c, {
    paypalMessageId: result.messageId,
    outcome: result.outcome,
    ...(result.workflowId ? { workflowId: result.workflowId } : {}),
    ...(times ? { phases: times.fields() } : {}),
  });
  if (times) c.header('server-timing', times.header());
}

/** A message that could not even be stored (Postgres away): counted, so an alert can see PayPal's resends pile up. */
export function observeUnstored(c: Context, reason: string): void {
  paypalNotifications.inc({ source: sourceOf(c), outcome: 'unstored' });
  addLogFields(c, { outcome: 'unstored', reason });
}
