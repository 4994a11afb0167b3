// Keeping PayPal's messages: a PDT or REST answer stored raw like any other message, and routing a
// verified message at most once per dedupe key (the SQL is in db/paypal-messages.ts).
import type { Pool } from '../db/pool';
import { insertRawMessage, lockDedupeKey, recordOutcome, routedCopy, type Judged } from '../db/paypal-messages';
import type { PaymentNotification } from '../workflows/notification';
import type { PdtAnswer } from './pdt-client';

/** A PDT answer, kept raw like every PayPal message; `asked` is the tx it answered. */
export function insertPdtAnswer(pool: Pool, channel: 'pdt' | 'poll', asked: string, answer: PdtAnswer, dedupeKey?: string): Promise<number> {
  const fields = answer.status === 'SUCCESS' ? answer.form.fields : undefined;
  return insertRawMessage(pool, {
    channel,
    raw: answer.raw,
    headers: {},
    charset: answer.status === 'SUCCESS' ? answer.form.charset : undefined,
    fields,
    txnId: fields?.txn_id || asked,
    parentTxnId: fields?.parent_txn_id || undefined,
    paymentStatus: fields?.payment_status || undefined,
    dedupeKey,
  });
}

/** How a REST answer is judged: PayPal's own answer over TLS to Keyship's authenticated call. */
export const restAnswerJudged: Judged = { verification: 'verified', detail: 'PayPal REST answer' };

/** An answer of PayPal's REST API (a capture, a refund, an order looked up), kept raw like any other message. */
export function insertRestAnswer(pool: Pool, answer: unknown, ids: { txnId: string; parentTxnId?: string; eventId?: string; paymentStatus: string }): Promise<number> {
  return insertRawMessage(pool, { channel: 'rest', raw: Buffer.from(JSON.stringify(answer)), headers: {}, charset: 'utf-8', fields: answer, ...ids });
}

/**
 * Routes a verified message at most once per dedupe key: under a lock on the key, a copy already
 * routed makes this one a duplicate; otherwise `send` runs and the row is marked routed. A resend
 * that arrives while the first copy is still being sent waits for it.
 *
 * The mark commits without waiting for the disk (synchronous_commit off for this transaction
 * only): PayPal's answer does not wait for a second flush; the raw copy's own commit was flushed.
 * What a crash of Postgres itself (not of the api) within a fraction of a second can lose is the
 * mark alone: the row stays 'received' while Temporal, which is durable on its own, has the
 * signal; a later copy of the same message is then signalled again and the workflow, which
 * remembers the dedupe keys it applied, ignores it.
 */
export async function routeOnce(
  pool: Pool,
  id: number,
  notification: PaymentNotification,
  workflowId: string,
  send: () => Promise<void>,
  judged: Judged,
  detail?: string,
): Promise<{ outcome: 'routed' | 'duplicate'; firstId?: number }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await lockDedupeKey(client, notification.dedupeKey);
    const firstId = await routedCopy(client, notification.dedupeKey, id);
    if (firstId !== undefined) {
      await recordOutcome(client, id, 'duplicate', `same message as #${firstId}, already routed`, judged, { workflowId });
      await client.query('COMMIT');
      return { outcome: 'duplicate', firstId };
    }
    await send();
    await recordOutcome(client, id, 'routed', detail, judged, { workflowId, notification });
    await client.query('COMMIT');
    return { outcome: 'routed' };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
