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

/** A stored message handed back to its intake by an operator's re-check. */
export interface RecheckCopy {
  id: number;
  channel: 'ipn' | 'webhook';
  rawBody: Buffer;
  headers: Record<string, string>;
  receivedAt: Date;
}

/**
 * Claims a message for a re-check: one that arrived by IPN or webhook, was not verified, and was
 * rejected or left for a retry (or was left half-way by a re-check that stopped minutes ago).
 * The claim marks it received again, so a second re-check at the same time finds nothing to claim.
 */
export async function claimForRecheck(db: Queryable, id: number): Promise<RecheckCopy | undefined> {
  const { rows } = await db.query<RecheckCopy>(
    `UPDATE paypal_messages SET outcome = 'received', outcome_detail = 're-check under way', processed_at = now()
      WHERE id = $1 AND channel IN ('ipn', 'webhook') AND verification <> 'verified'
        AND (outcome IN ('rejected', 'retry') OR (outcome = 'received' AND COALESCE(processed_at, received_at) < now() - interval '2 minutes'))
      RETURNING id, channel, raw_body AS "rawBody", COALESCE(headers, '{}'::jsonb) AS headers, received_at AS "receivedAt"`,
    [id],
  );
  return rows[0];
}

export interface MessageStanding {
  id: number;
  channel: Channel;
  verification: Verification;
  outcome: Outcome;
  outcomeDetail: string | null;
  workflowId: string | null;
  dedupeKey: string | null;
  firstRoutedId: number | null;
}

/** Where a message stands (and which copy of it was routed), to say why a re-check changes nothing. */
export async function messageStanding(db: Queryable, id: number): Promise<MessageStanding | undefined> {
  const { rows } = await db.query<MessageStanding>(
    `SELECT m.id, m.channel, m.verification, m.outcome, m.outcome_detail AS "outcomeDetail", m.workflow_id AS "workflowId", m.dedupe_key AS "dedupeKey",
            (SELECT r.id FROM paypal_messages r WHERE r.dedupe_key = m.dedupe_key AND r.outcome = 'routed' ORDER BY r.id LIMIT 1) AS "firstRoutedId"
       FROM paypal_messages m WHERE m.id = $1`,
    [id],
  );
  return rows[0];
}

/** Notes on a message's outcome that it was re-checked by an operator, and when. */
export async function noteRechecked(db: Queryable, id: number, by: string): Promise<void> {
  await db.query(`UPDATE paypal_messages SET outcome_detail = 're-checked by ' || $2 || ': ' || COALESCE(outcome_detail, outcome) WHERE id = $1`, [id, by]);
}

export interface UnverifiedMessageRow {
  id: number;
  channel: string;
  receivedAt: Date;
  paymentStatus: string | null;
  txnId: string | null;
  verification: string;
  outcome: string;
  outcomeDetail: string | null;
}

/** Messages an operator may re-check (not verified; rejected or awaiting a retry), newest first. */
export async function unverifiedMessages(db: Queryable, limit = 50): Promise<UnverifiedMessageRow[]> {
  const { rows } = await db.query<UnverifiedMessageRow>(
    `SELECT id, channel, received_at AS "receivedAt", payment_status AS "paymentStatus", txn_id AS "txnId", verification, outcome, outcome_detail AS "outcomeDetail"
       FROM paypal_messages
      WHERE channel IN ('ipn', 'webhook') AND verification <> 'verified' AND outcome IN ('rejected', 'retry')
        AND received_at > now() - interval '30 days'
      ORDER BY received_at DESC LIMIT $1`,
    [limit],
  );
  return rows;
}

export interface MoneyEventRow {
  id: number;
  receivedAt: Date;
  channel: string;
  status: string;
  gross: string | null;
  currency: string | null;
  reasonCode: string | null;
  disputeStage: string | null;
  disputeOutcome: string | null;
}

/** The routed PayPal messages that moved an invoice's money (paid, refunded, reversed, disputed), oldest first. */
export async function invoiceMoneyEvents(db: Queryable, invoiceId: number, txnId: string): Promise<MoneyEventRow[]> {
  const { rows } = await db.query<MoneyEventRow>(
    `SELECT id, received_at AS "receivedAt", channel, notification->>'status' AS status, notification->>'gross' AS gross, notification->>'currency' AS currency,
            notification->>'reasonCode' AS "reasonCode", notification->'dispute'->>'stage' AS "disputeStage", notification->'dispute'->>'outcome' AS "disputeOutcome"
       FROM paypal_messages
      WHERE (invoice_id = $1 OR txn_id = $2 OR parent_txn_id = $2) AND outcome = 'routed'
        AND notification->>'status' IN ('Completed', 'Refunded', 'Reversed', 'Canceled_Reversal', 'Disputed')
      ORDER BY received_at, id`,
    [invoiceId, txnId],
  );
  return rows;
}
