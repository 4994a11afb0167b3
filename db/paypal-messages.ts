// The SQL of paypal_messages: every message PayPal sent, raw bytes first, then what became of it;
// the dedupe lock and look-up that route a message once; and the admin's reads.
import type { Queryable } from './pool';
import type { PaymentNotification } from '../workflows/notification';

export type Channel = 'ipn' | 'webhook' | 'pdt' | 'poll' | 'rest';
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

export async function insertRawMessage(db: Queryable, m: RawMessage): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
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

/** What verifying a message found; written with its outcome, in one commit (one disk flush less per message). */
export interface Judged {
  verification: Exclude<Verification, 'unverified'>;
  detail: string;
}

/** Where a message's outcome went: its invoice workflow, and the notification it was routed as. */
export interface Routing {
  workflowId: string;
  notification?: PaymentNotification;
}

/** A message's outcome, with what verifying it found, in one UPDATE (one commit per message). */
export async function recordOutcome(db: Queryable, id: number, outcome: Outcome, detail?: string, judged?: Judged, routing?: Routing): Promise<void> {
  await db.query(
    `UPDATE paypal_messages SET outcome = $2, outcome_detail = $3, processed_at = now(),
            verification = COALESCE($4, verification), verification_detail = COALESCE($5, verification_detail),
            workflow_id = COALESCE($6, workflow_id), notification = COALESCE($7, notification)
      WHERE id = $1`,
    [id, outcome, detail ?? null, judged?.verification ?? null, judged?.detail ?? null, routing?.workflowId ?? null, routing?.notification ? JSON.stringify(routing.notification) : null],
  );
}

/**
 * Takes the transaction's lock on a dedupe key (a resend waits for the copy being routed) and
 * turns synchronous_commit off for this transaction only, in one round trip; `db` must be a
 * transaction's client.
 */
export async function lockDedupeKey(db: Queryable, dedupeKey: string): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock(hashtextextended('paypal-dedupe:' || $1, 0)), set_config('synchronous_commit', 'off', true)", [dedupeKey]);
}

/** Another message of this dedupe key already routed; its id, or undefined. */
export async function routedCopy(db: Queryable, dedupeKey: string, exceptId: number): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number }>("SELECT id FROM paypal_messages WHERE dedupe_key = $1 AND outcome = 'routed' AND id <> $2 LIMIT 1", [dedupeKey, exceptId]);
  return rows[0]?.id;
}

export interface StoredMessageRow {
  id: number;
  channel: string;
  receivedAt: Date;
  paymentStatus: string | null;
  verification: string;
  verificationDetail: string | null;
  outcome: string;
  outcomeDetail: string | null;
  remoteAddr: string | null;
  headers: unknown;
  fields: unknown;
  rawBody: Buffer;
  charset: string | null;
}

/** Every message about an invoice, oldest first: a message may reach us before its invoice exists, so matched by transaction id as well. */
export async function invoiceMessages(db: Queryable, invoiceId: number, txnId: string): Promise<StoredMessageRow[]> {
  const { rows } = await db.query<StoredMessageRow>(
    `SELECT id, channel, received_at AS "receivedAt", payment_status AS "paymentStatus", verification, verification_detail AS "verificationDetail",
            outcome, outcome_detail AS "outcomeDetail", remote_addr AS "remoteAddr", headers, fields, raw_body AS "rawBody", charset
       FROM paypal_messages WHERE invoice_id = $1 OR txn_id = $2 OR parent_txn_id = $2 ORDER BY received_at, id`,
    [invoiceId, txnId],
  );
  return rows;
}
