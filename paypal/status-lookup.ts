// The invoice workflow's question for a pending payment gone silent: where does it stand now?
// Answered with PDT's _notify-synch (the Standard-button API that needs no REST credentials); the
// answer is kept raw in paypal_messages (channel 'poll') like any other PayPal message.
import type { Config } from '../config/env';
import type { Pool } from '../db/pool';
import type { PaymentNotification } from '../workflows/notification';
import { ipnToNotification } from './ipn-notification';
import { recordOutcome } from '../db/paypal-messages';
import { insertPdtAnswer } from './message-store';
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

let warned = false;

/** For the worker: the PDT lookup the configuration allows; without a PDT token PayPal cannot be asked. */
export function statusLookupFromConfig(config: Config['paypal'], pool?: Pool): PayPalStatusLookup {
  const pdt = pdtClientFromConfig(config);
  if (pdt) return createPdtStatusLookup({ pdt, pool });
  return {
    lookup() {
      if (!warned) console.warn('PAYPAL_PDT_TOKEN is not set, so a silent pending payment cannot be looked up at PayPal; set it (PayPal profile, Website preferences) to enable the lookup.');
      warned = true;
      return Promise.resolve(undefined);
    },
  };
}
