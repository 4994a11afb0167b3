// The invoice workflow's question for a pending payment gone silent, or a capture webhook that
// names no buyer: where does the payment stand now? Answered by the REST API (the capture and its
// order) where a REST app is configured, else by PDT's _notify-synch (the Standard-button API);
// the answer is kept raw in paypal_messages like any other PayPal message.
import type { Config } from '../config/env';
import type { Pool } from '../db/pool';
import type { PaymentNotification } from '../workflows/notification';
import { ipnToNotification } from './ipn-notification';
import { recordOutcome } from '../db/paypal-messages';
import { insertPdtAnswer, insertRestAnswer, restAnswerJudged } from './message-store';
import { PayPalApiError, type PayPalRestClient } from './rest/client';
import { captureOrderId, getCapture, getOrder } from './rest/orders';
import { captureNotificationStatus, orderToNotification } from './rest/order-notification';
import { pdtClientFromConfig } from './intakes';
import type { PdtClient } from './pdt-client';

export interface PayPalStatusLookup {
  /** The payment's status now; undefined when PayPal does not know it; throws when PayPal cannot be asked (retry). */
  lookup(txnId: string): Promise<PaymentNotification | undefined>;
}

export function createPdtStatusLookup(deps: { pdt: PdtClient; pool?: Pool }): PayPalStatusLookup {
  return {
    async lookup(txnId) {
      const answer = await deps.pdt.synch(txnId);
      const fields = answer.status === 'SUCCESS' ? answer.form.fields : undefined;
      // Not a routed message (the workflow acts on the answer itself), so it takes no dedupe key in the table.
      const dedupeKey = `poll:${txnId}:${fields?.payment_status ?? 'unknown'}`;
      let messageId = 0;
      if (deps.pool) {
        messageId = await insertPdtAnswer(deps.pool, 'poll', txnId, answer);
        await recordOutcome(deps.pool, messageId, 'routed', 'answered the invoice workflow\'s status lookup', {
          verification: fields ? 'verified' : 'invalid',
          detail: answer.status === 'FAIL' ? answer.reason : 'PDT SUCCESS',
        });
      }
      if (!fields) return undefined;
      const mapped = ipnToNotification(fields, { source: 'poll', messageId, dedupeKey });
      return mapped.ok ? mapped.notification : undefined;
    },
  };
}

/**
 * Asks PayPal's REST API: the capture (Payments v2), then its order for the buyer and the items.
 * A transaction REST does not know (a classic button's payment) answers undefined.
 */
export function createRestStatusLookup(deps: { rest: PayPalRestClient; pool?: Pool }): PayPalStatusLookup {
  return {
    async lookup(txnId) {
      let capture;
      try {
        capture = await getCapture(deps.rest, txnId);
      } catch (error) {
        if (error instanceof PayPalApiError && (error.status === 404 || error.status === 400)) return undefined;
        throw error;
      }
      const orderId = captureOrderId(capture);
      const order = orderId ? await getOrder(deps.rest, orderId) : undefined;
      const answer = order ?? capture;
      let messageId = 0;
      if (deps.pool) {
        messageId = await insertRestAnswer(deps.pool, answer, { txnId, eventId: orderId, paymentStatus: `CAPTURE.${capture.status}` });
        await recordOutcome(deps.pool, messageId, 'routed', "answered the invoice workflow's status lookup", restAnswerJudged);
      }
      const dedupeKey = `poll:${txnId}:${capture.status}`;
      if (order) return orderToNotification(order, { source: 'poll', messageId, dedupeKey });
      const { status, pendingReason } = captureNotificationStatus(capture);
      return { source: 'poll', messageId, dedupeKey, txnId, eventTxnId: txnId, status, ...(pendingReason ? { pendingReason } : {}), payer: { email: '' }, items: [], gross: capture.amount?.value ?? '0.00', currency: capture.amount?.currency_code ?? '' };
    },
  };
}

/** REST first where a REST app is configured, then PDT for what REST does not know. */
function firstAnswer(lookups: PayPalStatusLookup[]): PayPalStatusLookup {
  return {
    async lookup(txnId) {
      for (const lookup of lookups) {
        const found = await lookup.lookup(txnId);
        if (found) return found;
      }
      return undefined;
    },
  };
}

let warned = false;

/** For the worker: the lookups the configuration allows (REST, PDT); with neither PayPal cannot be asked. */
export function statusLookupFromConfig(config: Config['paypal'], pool?: Pool, rest?: PayPalRestClient): PayPalStatusLookup {
  const pdt = pdtClientFromConfig(config);
  const lookups = [...(rest ? [createRestStatusLookup({ rest, pool })] : []), ...(pdt ? [createPdtStatusLookup({ pdt, pool })] : [])];
  if (lookups.length > 0) return firstAnswer(lookups);
  return {
    lookup() {
      if (!warned) console.warn('Neither a REST app (PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET) nor PAYPAL_PDT_TOKEN is set, so a silent pending payment cannot be looked up at PayPal; set either to enable the lookup.');
      warned = true;
      return Promise.resolve(undefined);
    },
  };
}
