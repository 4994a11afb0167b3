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
import { deriveKey, keyHash } from '../domain/download-keys';
import { formatBytes, formatTime } from '../domain/buyer-formats';
import { heartbeatSafely } from './heartbeat';
import type { ActivityDeps } from './deps';
import { readMailTemplate, type TemplateContext } from './mail-template';
import { claimMail, sendClaimedMail, type ClaimedMail, type OutgoingMail } from './mail';
import type { Pool } from '../db/pool';

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
}

export interface SendKeysResult {
  keyCount: number;
  /** False when this e-mail had already been sent by an earlier attempt. */
  sent: boolean;
}

interface KeyFileRow {
  package_file_id: number;
  name: string;
  size_bytes: number;
  md5: string;
  sha256: string;
  download_limit: number | null;
}

interface InvoiceMailRow {
  id: number;
  number: string;
  txn_id: string;
  account_id: number | null;
  payer_email: string;
  first_name: string | null;
  amount: string;
  currency: string;
}

export async function invoiceForMail(
  deps: ActivityDeps,
  invoiceId: number,
  options: { db?: Pick<Pool, 'query'>; lock?: boolean } = {},
): Promise<InvoiceMailRow & { packageNames: string; supportText: string }> {
  // One round trip: the invoice, its buyer's first name, and its packages' names and support texts;
  // with `lock`, the invoice's row is locked (FOR UPDATE) by the same statement.
  const { rows } = await (options.db ?? deps.pool).query<InvoiceMailRow & { package_names: string[]; support_texts: string[] }>(
    `SELECT i.id, i.number, i.txn_id, i.account_id, i.payer_email, a.first_name, i.amount::text AS amount, i.currency,
            ARRAY(SELECT p.name FROM invoice_items ii JOIN packages p ON p.id = ii.package_id WHERE ii.invoice_id = i.id ORDER BY p.id) AS package_names,
            ARRAY(SELECT p.support_text FROM invoice_items ii JOIN packages p ON p.id = ii.package_id WHERE ii.invoice_id = i.id ORDER BY p.id) AS support_texts
       FROM invoices i LEFT JOIN accounts a ON a.id = i.account_id WHERE i.id = $1${options.lock ? ' FOR UPDATE OF i' : ''}`,
    [invoiceId],
  );
  const row = rows[0];
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
    const result = await sendClaimedMail(deps, claim);
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
async function issueKeys(deps: ActivityDeps, input: SendKeysInput): Promise<{ claim: ClaimedMail; keyCount: number }> {
  // The template is read before the transaction: no file I/O while the invoice's row is locked,
  // and a template the seller broke fails before anything is written.
  const render = readMailTemplate(deps.settings.templatesDir, input.purpose === 'reminder' ? 'reminder' : 'delivery');
  const client = await deps.pool.connect();
  try {
    await client.query('BEGIN');
    // One delivery at a time per invoice, whatever the number of workers. A statement of its own:
    // the next one's snapshot is taken after the lock, so it sees what an earlier holder committed.
    const invoice = await invoiceForMail(deps, input.invoiceId, { db: client, lock: true });
    const saltRow = await client.query<{ salt: Buffer }>(
      `WITH created AS (
         INSERT INTO key_generations (invoice_id, generation, salt, purpose) VALUES ($1, $2, $3, $4)
         ON CONFLICT (invoice_id, generation) DO NOTHING
         RETURNING salt
       )
       SELECT salt FROM created UNION ALL SELECT salt FROM key_generations WHERE invoice_id = $1 AND generation = $2`,
      [input.invoiceId, input.generation, randomBytes(16), input.generation === 1 ? 'delivery' : 'regenerate'],
    );
    const salt = saltRow.rows[0]!.salt;
    const { rows: files } = await client.query<KeyFileRow>(
      `SELECT pf.id AS package_file_id, pf.name, pf.size_bytes, pf.md5, pf.sha256, p.download_limit
         FROM invoice_items ii
         JOIN packages p ON p.id = ii.package_id
         JOIN package_files pf ON pf.package_id = p.id AND pf.active
        WHERE ii.invoice_id = $1
        ORDER BY p.id, pf.position, pf.id`,
      [input.invoiceId],
    );
    const keys = files.map((f) => deriveKey(deps.settings.keySecret, salt, f.package_file_id, input.generation));
    // The keys (one row per file), the older generations revoked and the invoice's expiry: one
    // statement. Its parts touch different rows (this generation's keys, older ones', the invoice).
    await client.query(
      `WITH issued AS (
         INSERT INTO download_keys (invoice_id, package_file_id, key_hash, generation, expires_at, download_limit)
         SELECT $1, f.package_file_id, f.key_hash, $2, $3::timestamptz, f.download_limit
           FROM unnest($4::bigint[], $5::bytea[], $6::int[]) AS f(package_file_id, key_hash, download_limit)
         ON CONFLICT (invoice_id, package_file_id, generation) DO UPDATE SET expires_at = EXCLUDED.expires_at
       ), superseded AS (
         UPDATE download_keys SET revoked_at = now(), revoked_reason = 'regenerated'
          WHERE invoice_id = $1 AND generation < $2 AND revoked_at IS NULL
       )
       UPDATE invoices SET keys_expire_at = $3::timestamptz, fulfilled_at = COALESCE(fulfilled_at, now()), updated_at = now() WHERE id = $1`,
      [input.invoiceId, input.generation, input.expiresAt, files.map((f) => f.package_file_id), keys.map(keyHash), files.map((f) => f.download_limit)],
    );
    const claim = await claimMail(client, deps.settings.mailFrom, keyMail(deps, input, render, invoice, files, keys));
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
function keyMail(deps: ActivityDeps, input: SendKeysInput, render: MailRenderer, invoice: MailInvoice, files: KeyFileRow[], keys: string[]): OutgoingMail {
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
    firstDelivery: input.purpose === 'delivery',
    resent: input.purpose === 'resend',
    extended: input.purpose === 'extend',
    regenerated: input.purpose === 'regenerate',
    reinstated: input.purpose === 'reinstated',
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

/** Revokes every live key of an invoice (refund, reversal). */
export async function revokeKeys(deps: ActivityDeps, input: { invoiceId: number; reason: 'refunded' | 'reversed' }): Promise<{ revoked: number }> {
  const { rowCount } = await deps.pool.query(
    `UPDATE download_keys SET revoked_at = now(), revoked_reason = $2 WHERE invoice_id = $1 AND revoked_at IS NULL`,
    [input.invoiceId, input.reason],
  );
  return { revoked: rowCount ?? 0 };
}

/** Gives back the keys a reversal took (a canceled reversal); regenerated keys stay revoked. */
export async function restoreKeys(deps: ActivityDeps, input: { invoiceId: number }): Promise<{ restored: number }> {
  const { rowCount } = await deps.pool.query(
    `UPDATE download_keys SET revoked_at = NULL, revoked_reason = NULL
      WHERE invoice_id = $1 AND revoked_reason = 'reversed'
        AND generation = (SELECT max(generation) FROM key_generations WHERE invoice_id = $1)`,
    [input.invoiceId],
  );
  return { restored: rowCount ?? 0 };
}
