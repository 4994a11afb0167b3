// paypal_messages: every message PayPal sent, raw bytes first, then what became of it.
import type { Pool } from '../db/pool';
import type { PaymentNotification } from '../workflows/notification';
import type { PdtAnswer } from './pdt-client';

export type Channel = 'ipn' | 'webhook' | 'pdt' | 'poll';
export type Verification = 'unverified' | 'verified' | 'invalid' | 'error';
export type Outcome = 'received' | 'routed' | 'rejected' | 'duplicate' | 'retry';

export interface RawMessage {
  channel: Channel;
  raw: Buffer;
  headers: Record<string, string>;
  remoteAddr?: string;
  charset?: string;
  fields?: unknown;
  txnId?: string;
  parentTxnId?: string;
  eventId?: string;
  paymentStatus?: string;
  dedupeKey?: string;
  /** Stored but not worked on (load shed): written with outcome 'retry' and this reason. */
  shed?: string;
}

/** Postgres text and jsonb refuse NUL; a %00 in a forged form must not stop the raw copy being kept. */
function text(value: string | undefined): string | null {
  return value === undefined ? null : value.replaceAll('\0', '\ufffd');
}

// jsonb also refuses a lone UTF-16 surrogate (JSON.stringify writes it as a \\udXXX escape), which a forged
// webhook body can hold; it becomes U+FFFD like NUL. The raw bytes keep the original.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function json(value: unknown): string | null {
  if (value === undefined) return null;
  const clean = (text: string) => text.replaceAll('\0', '\ufffd').replace(loneSurrogate, '\ufffd');
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'string') return clean(item);
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      return Object.fromEntries(Object.entries(item).map(([k, v]) => [clean(k), v]));
    }
    return item;
  });
}

export async function insertRawMessage(pool: Pool, m: RawMessage): Promise<number> {
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO paypal_messages (channel, raw_body, headers, remote_addr, charset, fields, txn_id, parent_txn_id, event_id, payment_status, dedupe_key, outcome, outcome_detail, processed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, COALESCE($12, 'received'), $13, CASE WHEN $12::text IS NULL THEN NULL ELSE now() END) RETURNING id`,
    [
      m.channel,
      m.raw,
      json(m.headers),
      text(m.remoteAddr),
      text(m.charset),
      json(m.fields),
      text(m.txnId),
      text(m.parentTxnId),
      text(m.eventId),
      text(m.paymentStatus),
      text(m.dedupeKey),
      m.shed === undefined ? null : 'retry',
      m.shed ?? null,
    ],
  );
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('INSERT INTO paypal_messages returned no id');
  return id;
}

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

/** What verifying a message found; written with its outcome, in one commit (one disk flush less per message). */
export interface Judged {
  verification: Exclude<Verification, 'unverified'>;
  detail: string;
}

/** Where a message's outcome went: its invoice workflow, and the notification it was routed as. */
interface Routing {
  workflowId: string;
  notification?: PaymentNotification;
}

/** A message's outcome, with what verifying it found, in one UPDATE (one commit per message). */
export async function recordOutcome(db: Pick<Pool, 'query'>, id: number, outcome: Outcome, detail?: string, judged?: Judged, routing?: Routing): Promise<void> {
  await db.query(
    `UPDATE paypal_messages SET outcome = $2, outcome_detail = $3, processed_at = now(),
            verification = COALESCE($4, verification), verification_detail = COALESCE($5, verification_detail),
            workflow_id = COALESCE($6, workflow_id), notification = COALESCE($7, notification)
      WHERE id = $1`,
    [id, outcome, detail ?? null, judged?.verification ?? null, judged?.detail ?? null, routing?.workflowId ?? null, routing?.notification ? JSON.stringify(routing.notification) : null],
  );
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
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('paypal-dedupe:' || $1, 0)), set_config('synchronous_commit', 'off', true)", [notification.dedupeKey]);
    const { rows } = await client.query<{ id: number }>("SELECT id FROM paypal_messages WHERE dedupe_key = $1 AND outcome = 'routed' AND id <> $2 LIMIT 1", [notification.dedupeKey, id]);
    const first = rows[0];
    if (first) {
      await recordOutcome(client, id, 'duplicate', `same message as #${first.id}, already routed`, judged, { workflowId });
      await client.query('COMMIT');
      return { outcome: 'duplicate', firstId: first.id };
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
