// PDT on the thank-you page: the `tx` PayPal appended to the return URL is confirmed with
// _notify-synch, the answer is kept raw like any PayPal message and enters the same route as an IPN,
// so a buyer who is back before the IPN is served.
import type { Pool } from '../db/pool';
import type { InvoiceSignaller } from './invoice-signal';
import type { IntakeResult } from './intake-result';
import { ipnToNotification } from './ipn-notification';
import { recordOutcome, type Judged } from '../db/paypal-messages';
import { insertPdtAnswer } from './message-store';
import type { PdtClient } from './pdt-client';
import { receiverNote } from './receiver-note';
import { routeVerified } from './route-verified';

export function createPdtIntake(deps: { pool: Pool; pdt: PdtClient; signal: InvoiceSignaller; receiverEmail: string }) {
  return {
    /**
     * Confirms `tx` and routes it. Undefined when `tx` is not a transaction id; throws
     * PayPalUnavailableError when PayPal cannot be asked now (the page then waits for the IPN).
     */
    async confirm(tx: string): Promise<IntakeResult | undefined> {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(tx)) return undefined;
      const answer = await deps.pdt.synch(tx);
      const fields = answer.status === 'SUCCESS' ? answer.form.fields : undefined;
      const dedupeKey = fields ? `pdt:${fields.txn_id ?? tx}:${fields.payment_status ?? ''}` : undefined;
      const messageId = await insertPdtAnswer(deps.pool, 'pdt', tx, answer, dedupeKey);
      if (answer.status === 'FAIL' || !fields || !dedupeKey) {
        const detail = `PDT answered FAIL for ${tx} (${answer.status === 'FAIL' ? answer.reason : 'no fields'})`;
        await recordOutcome(deps.pool, messageId, 'rejected', detail, { verification: 'invalid', detail });
        return { messageId, outcome: 'rejected', detail, status: 200 };
      }
      // The answer came from PayPal over its own TLS endpoint, to our request with the identity token.
      const verified: Judged = { verification: 'verified', detail: 'PDT SUCCESS' };
      const mapped = ipnToNotification(fields, { source: 'pdt', messageId, dedupeKey });
      if (!mapped.ok) {
        await recordOutcome(deps.pool, messageId, 'rejected', mapped.reason, verified);
        return { messageId, outcome: 'rejected', detail: mapped.reason, status: 200 };
      }
      return routeVerified(deps.pool, deps.signal, messageId, mapped.notification, verified, receiverNote(mapped.notification, deps.receiverEmail));
    },
  };
}
