// Download keys and the e-mails that carry them.
//
// A key is derived (domain/download-keys.ts) from the secret, the salt of the invoice's generation
// (16 random bytes), the file and the generation; Postgres keeps the salt and each key's SHA-256,
// never a key. The worker, which holds the secret, derives the same keys again whenever it sends them.
// That makes `sendKeys` idempotent as a whole: a retry (or a second worker after a crash) inserts
// nothing new (unique (invoice, file, generation)) and, unless the e-mail's dedupe key is already
// recorded as sent, sends an e-mail holding the very same keys. The one crash window left is
// between SMTP accepting the message and the 'sent' row committing: the buyer then gets a second,
// identical copy (same keys, same Message-ID); never a second set of keys.
import { randomBytes } from 'node:crypto';
import { deriveKey, keyHash, moreTimeToken } from '../domain/download-keys';
import { insertReminderLink } from '../db/reminder-links';
import { formatBytes, formatTime } from '../domain/buyer-formats';
import { heartbeatSafely } from './heartbeat';
import type { ActivityDeps } from './deps';
import { readMailTemplate, type TemplateContext } from '../domain/mail-template';
import { claimMail, sendClaimedMail, type ClaimedMail, type OutgoingMail } from './mail';
import type { Queryable } from '../db/pool';
import { invoiceForMail as invoiceMailRow, type InvoiceMailRow } from '../db/invoices';
import * as keyStore from '../db/keys';
import { restoreInvoiceRows, revokeInvoiceRows } from '../db/revocations';
import { invoiceKeyFiles, type KeyFileRow } from '../db/packages';
import { invoiceKindItems, issueKinds, kindParts, restoreKinds, revokeKinds, type DeliveryContext, type DeliveryPart } from '../kinds';

export type KeyMailPurpose = 'delivery' | 'resend' | 'extend' | 'regenerate' | 'reinstated' | 'reminder';

export interface SendKeysInput {
  invoiceId: number;
  generation: number;
  /** ISO 8601: the expiry of this generation's keys (the workflow decides it). */
  expiresAt: string;
  purpose: KeyMailPurpose;
  /** Names the e-mail in `notifications`; the same key never sends twice. */
  dedupeKey: string;
  /**
   * The first delivery also sends the packages' own notifications (createActivities does), in the
   * same activity task; runs begun before this send them with an activity of their own.
   */
  packageNotifications?: boolean;
  /** A reminder's "more time" link is valid until then (ISO 8601: when the invoice's run closes). */
  moreTimeUntil?: string;
}

export interface SendKeysResult {
  keyCount: number;
  /** False when this e-mail had already been sent by an earlier attempt. */
  sent: boolean;
}

export async function invoiceForMail(
  deps: ActivityDeps,
  invoiceId: number,
  options: { db?: Queryable; lock?: boolean } = {},
): Promise<Omit<InvoiceMailRow, 'package_names' | 'support_texts'> & { packageNames: string; supportText: string }> {
  const row = await invoiceMailRow(options.db ?? deps.pool, invoiceId, options.lock);
  if (!row) throw new Error(`invoice ${invoiceId} is not in the database; was the database restored from an older copy?`);
  const { package_names: names, support_texts: supportTexts, ...invoice } = row;
  return {
    ...invoice,
    currency: invoice.currency.trim(),
    packageNames: names.join(', '),
    supportText: supportTexts.map((text) => text.trim()).filter(Boolean).join('\n\n'),
  };
}

/** Issues (or finds) the keys of one generation, sets their expiry, and e-mails them; then `andThen`, if given. */
export async function sendKeys(deps: ActivityDeps, input: SendKeysInput, andThen?: () => Promise<unknown>): Promise<SendKeysResult> {
  // Heartbeats let a crashed worker's attempt time out in seconds rather than minutes. The server
  // counts the heartbeat timeout from the attempt's start, so a delivery that ends within the
  // first beat (nearly all) sends none: each beat is a call to the server and a write there.
  const beat = setInterval(() => heartbeatSafely(), 2000);
  try {
    const { claim, keyCount } = await issueKeys(deps, input);
    const result = claim ? await sendClaimedMail(deps, claim) : { sent: false };
    // What follows the keys' e-mail (the packages' notifications) runs under the same heartbeat; a
    // failure there retries the activity, whose keys' e-mail, recorded as sent, is not sent again.
    await andThen?.();
    return { keyCount, sent: result.sent };
  } finally {
    clearInterval(beat);
  }
}

type MailInvoice = Awaited<ReturnType<typeof invoiceForMail>>;
type MailRenderer = ReturnType<typeof readMailTemplate>;

/**
 * The keys of one generation and the e-mail that carries them, in one transaction: the invoice
 * read and locked, the generation's salt, its files, the keys (one row per file, older
 * generations revoked, the invoice's expiry) and the e-mail recorded and claimed: five statements
 * and one commit; sendClaimedMail then sends it and marks it sent.
 */
async function issueKeys(deps: ActivityDeps, input: SendKeysInput): Promise<{ claim?: ClaimedMail; keyCount: number }> {
  // The template is read before the transaction: no file I/O while the invoice's row is locked,
  // and a template the seller broke fails before anything is written.
  const render = readMailTemplate(deps.settings.templatesDir, input.purpose === 'reminder' ? 'reminder' : 'delivery');
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN');
    // One delivery at a time per invoice, whatever the number of workers. A statement of its own:
    // the next one's snapshot is taken after the lock, so it sees what an earlier holder committed.
    const invoice = await invoiceForMail(deps, input.invoiceId, { db: client, lock: true });
    const salt = await keyStore.generationSalt(client, input.invoiceId, input.generation, randomBytes(16), input.generation === 1 ? 'delivery' : 'regenerate');
    const files = await invoiceKeyFiles(client, input.invoiceId);
    const fileKeys = files.map((f) => deriveKey(deps.settings.keySecret, salt, f.package_file_id, input.generation));
    // The keys (one row per file), the older generations revoked and the invoice's expiry: one statement.
    await keyStore.storeKeys(client, {
      invoiceId: input.invoiceId,
      generation: input.generation,
      expiresAt: input.expiresAt,
      keys: files.map((f, i) => ({ packageFileId: f.package_file_id, keyHash: keyHash(fileKeys[i]!), downloadLimit: f.download_limit })),
    });
    // What the package kinds deliver besides files (kinds/): issued with the keys, shown in the same e-mail.
    const kinds: DeliveryContext = {
      db: client,
      settings: deps.settings,
      invoiceId: input.invoiceId,
      invoiceNumber: invoice.number,
      payerEmail: invoice.payer_email,
      buyerName: [invoice.first_name, invoice.last_name].filter(Boolean).join(' '),
      generation: input.generation,
      salt,
      expiresAt: input.expiresAt,
      items: await invoiceKindItems(client, input.invoiceId),
    };
    // A reminder re-sends what the delivery issued: nothing to issue.
    if (input.purpose !== 'reminder') await issueKinds(kinds);
    // A reminder speaks only of what stops with the keys; with nothing that does (a ticket, a login,
    // license keys, a live event's fixed dates) it is not sent.
    const parts = (await kindParts(kinds)).filter((part) => input.purpose !== 'reminder' || part.expiresWithKeys);
    if (input.purpose === 'reminder' && files.length === 0 && parts.length === 0) {
      await client.query('COMMIT');
      return { keyCount: 0 };
    }
    const moreTime = input.purpose === 'reminder' && input.moreTimeUntil ? moreTimeToken(deps.settings.keySecret, input.dedupeKey) : undefined;
    if (moreTime) await insertReminderLink(client, { tokenHash: keyHash(moreTime), invoiceId: input.invoiceId, generation: input.generation, expiresAt: input.moreTimeUntil! });
    const claim = await claimMail(client, deps.settings.mailFrom, keyMail(deps, input, render, invoice, files, fileKeys, parts, moreTime));
    await client.query('COMMIT');
    return { claim, keyCount: files.length };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** The keys' e-mail: the bodies sent, and the copy Postgres keeps with each key withheld. */
function keyMail(
  deps: ActivityDeps,
  input: SendKeysInput,
  render: MailRenderer,
  invoice: MailInvoice,
  files: KeyFileRow[],
  keys: string[],
  parts: DeliveryPart[],
  moreTime?: string,
): OutgoingMail {
  const fileContext = (withKeys: boolean): TemplateContext[] =>
    files.map((f, i) => {
      const key = keys[i]!;
      return {
        name: f.name,
        size: formatBytes(Number(f.size_bytes)),
        sizeBytes: Number(f.size_bytes),
        md5: f.md5,
        sha256: f.sha256,
        url: withKeys ? `${deps.settings.publicUrl}/d/${key}` : `${deps.settings.publicUrl}/d/[key withheld; sha256 ${keyHash(key).toString('hex').slice(0, 12)}…]`,
        downloadLimit: f.download_limit ?? '',
      };
    });
  const context = (withKeys: boolean): TemplateContext => ({
    invoiceNumber: invoice.number,
    txnId: invoice.txn_id,
    firstName: invoice.first_name ?? '',
    packageName: invoice.packageNames,
    supportText: invoice.supportText,
    expiresAt: formatTime(input.expiresAt),
    files: fileContext(withKeys),
    hasFiles: files.length > 0,
    parts: partContext(parts, withKeys),
    firstDelivery: input.purpose === 'delivery',
    resent: input.purpose === 'resend',
    extended: input.purpose === 'extend',
    regenerated: input.purpose === 'regenerate',
    reinstated: input.purpose === 'reinstated',
    // The reminder's one-click link for more time (empty when the e-mail has none); withheld in the stored copy like a key.
    moreTimeUrl: moreTime ? `${deps.settings.publicUrl}/d/more-time/${withKeys ? moreTime : '[link withheld]'}` : '',
  });
  // One read of the template renders both: the e-mail sent, and the copy kept without its keys.
  const sent = render(context(true));
  const stored = render(context(false));
  return {
    kind: input.purpose === 'reminder' ? 'reminder' : input.purpose === 'delivery' ? 'delivery' : `delivery-${input.purpose}`,
    dedupeKey: input.dedupeKey,
    invoiceId: invoice.id,
    accountId: invoice.account_id ?? undefined,
    to: invoice.payer_email,
    subject: sent.subject,
    text: sent.text,
    html: sent.html,
    storedText: stored.text,
    storedHtml: stored.html,
  };
}

/** The package kinds' parts as the templates read them; a secret value is withheld in the stored copy. */
function partContext(parts: DeliveryPart[], withSecrets: boolean): TemplateContext[] {
  return parts.map((part) => ({
    title: part.title,
    packageName: part.packageName,
    note: part.note ?? '',
    lines: part.lines.map((line) => ({
      label: line.label,
      value: line.secret && !withSecrets ? `[withheld; sha256 ${keyHash(line.value).toString('hex').slice(0, 12)}…]` : line.value,
      url: line.url === true,
    })),
  }));
}

/** Revokes every live key of an invoice (refund, reversal), and what its package kinds gave. Each step is idempotent. */
export async function revokeKeys(deps: ActivityDeps, input: { invoiceId: number; reason: 'refunded' | 'reversed' }): Promise<{ revoked: number }> {
  const keys = await revokeInvoiceRows(deps.pool, 'download_keys', input.invoiceId, input.reason);
  return { revoked: keys + (await revokeKinds(deps.pool, input.invoiceId, input.reason)) };
}

/** Gives back the keys a reversal took (a canceled reversal), and the kinds' rows; regenerated keys stay revoked. */
export async function restoreKeys(deps: ActivityDeps, input: { invoiceId: number }): Promise<{ restored: number }> {
  const keys = await restoreInvoiceRows(deps.pool, 'download_keys', input.invoiceId, { newestGeneration: true });
  return { restored: keys + (await restoreKinds(deps.pool, input.invoiceId)) };
}
