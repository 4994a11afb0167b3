// Shared pieces of the invoice tests: a seeded package, PayPal notifications as the intake would
// signal them, activity dependencies over a test database and SMTP server, and mail helpers.
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Pool } from '../db/pool';
import { createActivities, type PayPalStatusClient } from '../activities';
import type { ActivityDeps } from '../activities/deps';
import { defaultTemplatesDir } from '../domain/invoice-settings';
import type { InvoiceTimings } from '../workflows/invoice-state';
import type { PaymentNotification, PaymentStatus } from '../workflows/notification';
import type { CapturedMail } from './harness';

export const receiverEmail = 'seller@keyship.test';
export const operatorEmail = 'operator@keyship.test';
export const publicUrl = 'http://127.0.0.1:3999';
export const keySecret = Buffer.from('test-only-key-secret-0123456789abcdef', 'utf8');

export const defaultTimings: InvoiceTimings = {
  pendingLimitSeconds: 30 * 86400,
  pendingPollSeconds: 86400,
  retentionSeconds: 180 * 86400,
  defaultKeyTtlSeconds: 3 * 86400,
};

/** A package "GUIDE-1" (19.95 USD, two files, a support notification) and "NOREMIND" (reminders off). */
export async function seedPackages(pool: Pool): Promise<void> {
  await pool.query(`
    INSERT INTO packages (item_number, name, currency, price, support_text, reminder_hours)
    VALUES ('GUIDE-1', 'Field Guide', 'USD', 19.95, 'Questions? Write to support@keyship.test.', 24),
           ('NOREMIND', 'Quiet Guide', 'USD', 5.00, '', NULL)
    ON CONFLICT (item_number) DO NOTHING;
    INSERT INTO package_files (package_id, name, storage_path, size_bytes, md5, sha256, position)
    SELECT p.id, f.name, f.path, f.size, f.md5, f.sha, f.pos FROM packages p,
      (VALUES ('guide.pdf', 'guide/guide.pdf', 1048576, repeat('a', 32), repeat('b', 64), 1),
              ('guide-extras.zip', 'guide/extras.zip', 2048, repeat('c', 32), repeat('d', 64), 2)) AS f(name, path, size, md5, sha, pos)
    WHERE p.item_number = 'GUIDE-1'
    ON CONFLICT (package_id, name) DO NOTHING;
    INSERT INTO package_files (package_id, name, storage_path, size_bytes, md5, sha256)
    SELECT id, 'quiet.pdf', 'quiet/quiet.pdf', 10, repeat('e', 32), repeat('f', 64) FROM packages WHERE item_number = 'NOREMIND'
    ON CONFLICT (package_id, name) DO NOTHING;
    INSERT INTO package_notifications (package_id, name, subject, text_body)
    SELECT id, 'support', 'Getting help with {{packageName}}', 'Hello {{firstName}}, {{supportText}} (invoice {{invoiceNumber}})' FROM packages WHERE item_number = 'GUIDE-1'
    ON CONFLICT (package_id, name) DO NOTHING;
  `);
}

export function newTxnId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase();
}

export function buyerEmail(label: string): string {
  return `${label}.${randomUUID().slice(0, 8)}@buyer.test`;
}

let messageCounter = 0;

export function notification(txnId: string, email: string, status: PaymentStatus, extra: Partial<PaymentNotification> = {}): PaymentNotification {
  messageCounter += 1;
  return {
    source: 'ipn',
    messageId: 0,
    dedupeKey: `ipn-${txnId}-${status}-${messageCounter}`,
    txnId,
    eventTxnId: txnId,
    status,
    receiverEmail,
    payer: { email, payerId: `PAYER${txnId.slice(0, 6)}`, firstName: 'Ada', lastName: 'Buyer' },
    items: [{ itemNumber: 'GUIDE-1', itemName: 'Field Guide', quantity: 1, gross: '19.95' }],
    gross: '19.95',
    currency: 'USD',
    ...extra,
  };
}

/** The PayPal status boundary: answers the workflow's silent-pending lookups from a map. */
export class StatusAnswers implements PayPalStatusClient {
  answers = new Map<string, PaymentNotification>();
  asked: string[] = [];
  async lookup(txnId: string): Promise<PaymentNotification | undefined> {
    this.asked.push(txnId);
    return this.answers.get(txnId);
  }
}

export function activityDeps(pool: Pool, smtpUrl: string, paypalStatus: PayPalStatusClient, timings: InvoiceTimings = defaultTimings, extra: Partial<ActivityDeps> = {}): ActivityDeps {
  return {
    ...extra,
    pool,
    mailer: nodemailer.createTransport(smtpUrl),
    paypalStatus,
    settings: { mailFrom: 'Keyship Test <sales@keyship.test>', operatorEmail, publicUrl, receiverEmail, keySecret, templatesDir: defaultTemplatesDir, timings },
  };
}

export function testActivities(pool: Pool, smtpUrl: string, paypalStatus: PayPalStatusClient, timings?: InvoiceTimings, extra?: Partial<ActivityDeps>) {
  return createActivities(activityDeps(pool, smtpUrl, paypalStatus, timings, extra));
}

/** The keys in a delivery e-mail's download URLs. */
export function keysInMail(mail: Pick<CapturedMail, 'parsed'>): string[] {
  const text = mail.parsed.text ?? '';
  return [...text.matchAll(new RegExp(`${publicUrl.replace(/[.:/]/g, '\\$&')}/d/([A-Za-z0-9_-]{43})`, 'g'))].map((m) => m[1]!);
}

export function mailsTo(messages: CapturedMail[], to: string): CapturedMail[] {
  return messages.filter((m) => m.envelope.to.includes(to));
}

/**
 * The folder under test/histories/ that KEYSHIP_SAVE_HISTORIES writes the current workflow code's
 * histories to (a patched() change starts a new one; older folders stay and keep replaying).
 */
export const currentHistoriesVersion = '5-money-policy';
