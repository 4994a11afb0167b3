// Outgoing e-mail, each one recorded in `notifications` under a dedupe key: the unique key is what
// makes a retried activity send an e-mail once. Once the SMTP server has accepted a message, the
// activity does not fail for want of Postgres: it keeps trying to mark the row 'sent' (a restart
// of Postgres takes seconds), since failing would make the retry send it again. What is left is
// a worker killed between the SMTP server's 250 and that commit: the retry sends an identical copy
// (same content, same Message-ID, which many mailboxes collapse).
import { createHash } from 'node:crypto';
import { isDatabaseUnavailable, type Queryable } from '../db/pool';
import { claimEmail, markEmailFailed, markEmailSent } from '../db/emails';
import type { ActivityDeps } from './deps';
import { heartbeatSafely } from './heartbeat';

export interface OutgoingMail {
  kind: string;
  /** Names this e-mail for ever: the same key is never sent twice. */
  dedupeKey: string;
  invoiceId?: number;
  accountId?: number;
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** What Postgres keeps when the sent bodies hold secrets (download keys); defaults to the bodies. */
  storedText?: string;
  storedHtml?: string;
}

export interface SendResult {
  /** False when an earlier attempt had already sent it. */
  sent: boolean;
  messageId: string;
}

function domainOf(address: string): string {
  const match = /@([^>\s]+)>?\s*$/.exec(address);
  return match?.[1] ?? 'keyship.localhost';
}

/** A Message-ID derived from the dedupe key, so a resent copy carries the same one. */
export function messageIdFor(dedupeKey: string, from: string): string {
  return `<${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32)}@${domainOf(from)}>`;
}

/** An e-mail recorded and claimed for this attempt: `claimed` false when it was sent already. */
export interface ClaimedMail {
  claimed: boolean;
  mail: OutgoingMail;
  from: string;
  messageId: string;
}

/**
 * Records the e-mail and claims it for this attempt in one statement; a row already 'sent' is left
 * alone (the DO UPDATE's WHERE fails, no row comes back) and nothing may go out. `db` may be a
 * transaction's client (sendKeys claims in the same commit as the keys).
 */
export async function claimMail(db: Queryable, from: string, mail: OutgoingMail): Promise<ClaimedMail> {
  const messageId = messageIdFor(mail.dedupeKey, from);
  const headers = { From: from, To: mail.to, Subject: mail.subject, 'Message-ID': messageId };
  const claimed = await claimEmail(db, {
    invoiceId: mail.invoiceId ?? null,
    accountId: mail.accountId ?? null,
    kind: mail.kind,
    dedupeKey: mail.dedupeKey,
    to: mail.to,
    from,
    subject: mail.subject,
    headers,
    textBody: mail.storedText ?? mail.text,
    htmlBody: mail.storedHtml ?? mail.html ?? null,
    messageId,
  });
  return { claimed, mail, from, messageId };
}

/** Sends a claimed e-mail over SMTP and marks it sent (or failed, and throws: the activity is retried). */
export async function sendClaimedMail(deps: ActivityDeps, { claimed, mail, from, messageId }: ClaimedMail): Promise<SendResult> {
  if (!claimed) return { sent: false, messageId };
  try {
    await deps.mailer.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await markEmailFailed(deps.pool, mail.dedupeKey, reason);
    throw new Error(`sending the ${mail.kind} e-mail to ${mail.to} failed (${reason}); it is retried, check SMTP_URL if this repeats`);
  }
  await untilWritten(() => markEmailSent(deps.pool, mail.dedupeKey));
  return { sent: true, messageId };
}

export async function sendRecordedMail(deps: ActivityDeps, mail: OutgoingMail): Promise<SendResult> {
  return sendClaimedMail(deps, await claimMail(deps.pool, deps.settings.mailFrom, mail));
}

/** How long a sent e-mail's record is retried before the activity gives up (its retry resends). */
const sentRecordPatienceMs = 45_000;

/**
 * Runs a write until it succeeds while Postgres is away, backing off from 100 ms to 2 s, for up to
 * `patienceMs`, beating the activity's heartbeat meanwhile (delivery activities have a 10-second
 * heartbeat timeout). Any other error fails at once: waiting would not mend it.
 */
async function untilWritten(write: () => Promise<unknown>, patienceMs = sentRecordPatienceMs): Promise<void> {
  const deadline = Date.now() + patienceMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    try {
      await write();
      return;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() + wait > deadline) throw error;
      heartbeatSafely(`recording a sent e-mail failed (${error instanceof Error ? error.message : String(error)}); trying again in ${wait} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
