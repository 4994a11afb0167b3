// POST /paypal/ipn's work: keep the raw message, post it back for verification, then route it.
// The order matters: nothing happens before the raw copy is in Postgres, and nothing is acted on
// before PayPal answered VERIFIED.
import { createHash } from 'node:crypto';
import type { Pool } from '../db/pool';
import type { PayPalMode } from './endpoints';
import type { InvoiceSignaller } from './invoice-signal';
import type { IntakeResult } from './intake-result';
import { parseIpnBody, type IpnForm } from './ipn-form';
import type { PhaseTimes } from './phase-times';
import { ipnToNotification } from './ipn-notification';
import type { IpnVerdict, IpnVerifier } from './ipn-postback';
import { insertRawMessage, recordOutcome, type Judged } from '../db/paypal-messages';
import { receiverNote } from './receiver-note';
import { routeVerified } from './route-verified';
import { PayPalUnavailableError } from './unavailable-error';

export interface IpnIntakeDeps {
  pool: Pool;
  verifier: IpnVerifier;
  signal: InvoiceSignaller;
  mode: PayPalMode;
  receiverEmail: string;
}

export interface IncomingMessage {
  raw: Buffer;
  headers: Record<string, string>;
  remoteAddr?: string;
  /** Laps of the work on it, when the caller wants them (the api's Server-Timing). */
  times?: PhaseTimes;
}

/** A message already in paypal_messages, as an operator's re-check hands it back to its intake. */
export interface StoredCopy {
  messageId: number;
  raw: Buffer;
  headers: Record<string, string>;
  receivedAt: Date;
}

/** ipn_track_id names one IPN and is kept on PayPal's resends; old messages lack it, their bytes do not. */
export function ipnDedupeKey(form: IpnForm | undefined, raw: Buffer): string {
  const track = form?.fields.ipn_track_id;
  return track ? `ipn:${track}` : `ipn:sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

export function createIpnIntake(deps: IpnIntakeDeps) {
  const { pool } = deps;
  const reject = async (messageId: number, detail: string, judged?: Judged): Promise<IntakeResult> => {
    await recordOutcome(pool, messageId, 'rejected', detail, judged);
    return { messageId, outcome: 'rejected', detail, status: 200 };
  };

  /** The raw copy, before anything else; also what a shed message gets. */
  async function store(message: IncomingMessage, shed?: string): Promise<{ messageId: number; form?: IpnForm; dedupeKey: string }> {
    let form: IpnForm | undefined;
    try {
      form = parseIpnBody(message.raw);
    } catch {
      form = undefined;
    }
    const fields = form?.fields;
    const dedupeKey = ipnDedupeKey(form, message.raw);
    const messageId = await insertRawMessage(pool, {
      channel: 'ipn',
      raw: message.raw,
      headers: message.headers,
      remoteAddr: message.remoteAddr,
      charset: form?.charset,
      fields,
      txnId: fields?.txn_id || undefined,
      parentTxnId: fields?.parent_txn_id || undefined,
      eventId: fields?.ipn_track_id || undefined,
      paymentStatus: fields?.payment_status || undefined,
      dedupeKey,
      shed,
    });
    return { messageId, form, dedupeKey };
  }

  /** Verification, then the mapping and routing: what happens to a stored message. */
  async function judge(messageId: number, raw: Buffer, form: IpnForm | undefined, dedupeKey: string, times?: PhaseTimes): Promise<IntakeResult> {
    if (!form || form.pairs.length === 0) return reject(messageId, 'body is not a form PayPal would send');

    let verdict: IpnVerdict;
    try {
      verdict = await deps.verifier.verify(raw);
      times?.lap('verify');
    } catch (error) {
      if (!(error instanceof PayPalUnavailableError)) throw error;
      await recordOutcome(pool, messageId, 'retry', error.message, { verification: 'error', detail: error.message });
      return { messageId, outcome: 'retry', detail: error.message, status: 503 };
    }
    if (verdict === 'INVALID') {
      const invalid: Judged = { verification: 'invalid', detail: 'PayPal answered INVALID' };
      return reject(messageId, 'PayPal answered INVALID: the message is forged, altered, or from another PayPal environment; nothing was done', invalid);
    }
    // Written with the outcome (routed, or why not), in the same commit.
    const verified: Judged = { verification: 'verified', detail: 'PayPal answered VERIFIED' };

    // The postback endpoint already decides the environment; this also stops a sandbox message
    // at a live listener whose verify URL was overridden.
    if (deps.mode === 'live' && form.fields.test_ipn === '1') {
      return reject(messageId, 'sandbox message (test_ipn=1) at a live listener; nothing was done', verified);
    }
    const mapped = ipnToNotification(form.fields, { source: 'ipn', messageId, dedupeKey });
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
      const { messageId, form, dedupeKey } = await store(message);
      message.times?.lap('store');
      return judge(messageId, message.raw, form, dedupeKey, message.times);
    },

    /** A stored copy verified again now and routed as if it had just arrived (an operator's re-check). */
    async recheck(stored: StoredCopy): Promise<IntakeResult> {
      let form: IpnForm | undefined;
      try {
        form = parseIpnBody(stored.raw);
      } catch {
        form = undefined;
      }
      return judge(stored.messageId, stored.raw, form, ipnDedupeKey(form, stored.raw));
    },
  };
}
