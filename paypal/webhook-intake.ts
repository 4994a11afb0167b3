// POST /paypal/webhook's work: keep the raw body, verify the signature over those exact bytes before
// trusting any of the JSON, refuse transmissions outside the replay window, then route once per event id.
import type { Pool } from '../db/pool';
import { TemporalUnavailableError, type InvoiceSignaller } from './invoice-signal';
import type { IntakeResult } from './intake-result';
import type { IncomingMessage, StoredCopy } from './ipn-intake';
import type { PhaseTimes } from './phase-times';
import { insertRawMessage, recordOutcome, type Judged } from '../db/paypal-messages';
import { receiverNote } from './receiver-note';
import { routeVerified } from './route-verified';
import { PayPalUnavailableError } from './unavailable-error';
import { webhookToNotification, type WebhookEvent } from './webhook-notification';
import { isDisputeEvent, type DisputeResource } from './webhook-dispute';
import { readTransmission } from './webhook-transmission';
import type { WebhookVerdict, WebhookVerifier } from './webhook-verifier';

export interface WebhookIntakeDeps {
  pool: Pool;
  verifier: WebhookVerifier;
  signal: InvoiceSignaller;
  receiverEmail: string;
  /** A transmission older than this (or this far in the future) is a replay. */
  replayWindowSeconds: number;
  clock?: () => Date;
  /** CHECKOUT.ORDER.APPROVED: tells the order's checkout workflow to capture (absent: such events are refused). */
  orderApproved?: OrderApprovedHandler;
}

/** The checkout's workflow id once told; `unknown` when Keyship did not create this order. */
export type OrderApprovedHandler = (orderId: string) => Promise<{ workflowId: string; detail: string } | { unknown: string }>;

/** The transaction a stored event is filed under: the capture, or the one a dispute is about. */
function storedTxnId(event: WebhookEvent | undefined): string | undefined {
  if (!event) return undefined;
  if (isDisputeEvent(event.event_type ?? '')) {
    const disputed = (event.resource as DisputeResource | undefined)?.disputed_transactions?.find((t) => typeof t.seller_transaction_id === 'string');
    return disputed?.seller_transaction_id;
  }
  return typeof event.resource?.id === 'string' ? event.resource.id : undefined;
}

/** Outside the window: a reason. PayPal signs the time, so it is checked after the signature. */
export function replayProblem(transmissionTime: string, now: Date, windowSeconds: number): string | undefined {
  const sent = Date.parse(transmissionTime);
  if (Number.isNaN(sent)) return `PAYPAL-TRANSMISSION-TIME "${transmissionTime.slice(0, 40)}" is not a time`;
  const ageSeconds = (now.getTime() - sent) / 1000;
  if (ageSeconds > windowSeconds || ageSeconds < -windowSeconds) {
    return `transmission time ${transmissionTime} is outside the ${windowSeconds} s replay window around ${now.toISOString()}`;
  }
  return undefined;
}

export function createWebhookIntake(deps: WebhookIntakeDeps) {
  const { pool } = deps;
  const clock = deps.clock ?? (() => new Date());
  const reject = async (messageId: number, detail: string, judged?: Judged): Promise<IntakeResult> => {
    await recordOutcome(pool, messageId, 'rejected', detail, judged);
    return { messageId, outcome: 'rejected', detail, status: 200 };
  };

  /** The buyer approved an order: its checkout captures it (the buyer may have closed the tab). */
  async function approved(messageId: number, event: WebhookEvent, verified: Judged): Promise<IntakeResult> {
    const orderId = event.resource?.id;
    if (!orderId || !deps.orderApproved) return reject(messageId, `CHECKOUT.ORDER.APPROVED ${orderId ?? 'without an order id'}: PayPal Checkout is not enabled here; nothing to capture`, verified);
    try {
      const told = await deps.orderApproved(orderId);
      if ('unknown' in told) return reject(messageId, told.unknown, verified);
      await recordOutcome(pool, messageId, 'routed', told.detail, verified, { workflowId: told.workflowId });
      return { messageId, outcome: 'routed', detail: told.detail, status: 200, workflowId: told.workflowId };
    } catch (error) {
      if (!(error instanceof TemporalUnavailableError)) throw error;
      await recordOutcome(pool, messageId, 'retry', error.message, verified);
      return { messageId, outcome: 'retry', detail: error.message, status: 503 };
    }
  }

  /** The raw copy, before anything else; also what a shed message gets. */
  async function store(message: IncomingMessage, shed?: string): Promise<{ messageId: number; event?: WebhookEvent }> {
    let event: WebhookEvent | undefined;
    try {
      const parsed: unknown = JSON.parse(message.raw.toString('utf8'));
      event = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as WebhookEvent) : undefined;
    } catch {
      event = undefined;
    }
    const messageId = await insertRawMessage(pool, {
      channel: 'webhook',
      raw: message.raw,
      headers: message.headers,
      remoteAddr: message.remoteAddr,
      charset: 'utf-8',
      fields: event,
      eventId: typeof event?.id === 'string' ? event.id : undefined,
      txnId: storedTxnId(event),
      paymentStatus: typeof event?.event_type === 'string' ? event.event_type : undefined,
      dedupeKey: typeof event?.id === 'string' ? `webhook:${event.id}` : undefined,
      shed,
    });
    return { messageId, event };
  }

  /** Verification, the replay window (judged at `arrived`), then the mapping and routing. */
  async function judge(messageId: number, raw: Buffer, headers: Record<string, string>, event: WebhookEvent | undefined, arrived: Date, times?: PhaseTimes): Promise<IntakeResult> {
    let verdict: WebhookVerdict;
    try {
      verdict = await deps.verifier.verify({ headers, raw });
      times?.lap('verify');
    } catch (error) {
      if (!(error instanceof PayPalUnavailableError)) throw error;
      await recordOutcome(pool, messageId, 'retry', error.message, { verification: 'error', detail: error.message });
      return { messageId, outcome: 'retry', detail: error.message, status: 503 };
    }
    if (!verdict.ok) {
      return reject(messageId, `signature not verified (${verdict.reason}); nothing was done`, { verification: 'invalid', detail: verdict.reason });
    }
    // Written with the outcome (routed, or why not), in the same commit.
    const verified: Judged = { verification: 'verified', detail: 'signature verified' };

    const transmission = readTransmission(headers);
    const replay = 'missing' in transmission ? 'no transmission time' : replayProblem(transmission.time, arrived, deps.replayWindowSeconds);
    if (replay) return reject(messageId, `replay refused: ${replay}`, verified);
    if (!event) return reject(messageId, 'body is not a JSON object', verified);

    if (event.event_type === 'CHECKOUT.ORDER.APPROVED') return approved(messageId, event, verified);
    const mapped = webhookToNotification(event, { messageId });
    if (!mapped.ok) return reject(messageId, mapped.reason, verified);
    return routeVerified(pool, deps.signal, messageId, mapped.notification, verified, receiverNote(mapped.notification, deps.receiverEmail), times);
  }

  return {
    /** Stored raw and answered 503 without being worked on (too many in flight): PayPal resends it. */
    async shed(message: IncomingMessage, reason: string): Promise<IntakeResult> {
      const { messageId } = await store(message, reason);
      return { messageId, outcome: 'retry', detail: reason, status: 503 };
    },

    async handle(message: IncomingMessage): Promise<IntakeResult> {
      const { messageId, event } = await store(message);
      message.times?.lap('store');
      return judge(messageId, message.raw, message.headers, event, clock(), message.times);
    },

    /**
     * A stored copy verified again now and routed as if it had just arrived (an operator's
     * re-check); the replay window is judged at the time it first arrived.
     */
    async recheck(stored: StoredCopy): Promise<IntakeResult> {
      let event: WebhookEvent | undefined;
      try {
        const parsed: unknown = JSON.parse(stored.raw.toString('utf8'));
        event = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as WebhookEvent) : undefined;
      } catch {
        event = undefined;
      }
      return judge(stored.messageId, stored.raw, stored.headers, event, stored.receivedAt);
    },
  };
}
