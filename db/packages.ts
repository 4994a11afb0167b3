// The SQL of packages, their files and their own notifications: what the store sells, what a
// payment is checked against, which files an invoice's keys open, and the admin's catalogue.
import type { Queryable } from './pool';
import type { PackageKind } from '../kinds/kind';
import { liveStatuses, sqlList } from '../domain/invoice-status';
import { defaultDisputePolicy, defaultRefundPolicy, type DisputePolicy, type RefundPolicy } from '../domain/money-policy';

export interface PackageTermsRow {
  id: number;
  item_number: string;
  name: string;
  currency: string;
  price: string;
  key_ttl_seconds: number | null;
  reminder_hours: number | null;
  refund_policy: RefundPolicy;
  dispute_policy: DisputePolicy;
  active: boolean;
}

/** The packages of these item numbers (those that exist), with what a payment is checked against. */
export async function packagesByItemNumber(db: Queryable, itemNumbers: string[]): Promise<PackageTermsRow[]> {
  const { rows } = await db.query<PackageTermsRow>(
    'SELECT id, item_number, name, currency, price::text AS price, key_ttl_seconds, reminder_hours, refund_policy, dispute_policy, active FROM packages WHERE item_number = ANY($1)',
    [itemNumbers],
  );
  return rows;
}

/** The delivery terms of an invoice's packages. */
export type InvoiceTermsRow = Pick<PackageTermsRow, 'id' | 'key_ttl_seconds' | 'reminder_hours' | 'refund_policy' | 'dispute_policy'>;

export async function invoicePackageTerms(db: Queryable, invoiceId: number): Promise<InvoiceTermsRow[]> {
  const { rows } = await db.query<InvoiceTermsRow>(
    `SELECT p.id, p.key_ttl_seconds, p.reminder_hours, p.refund_policy, p.dispute_policy FROM invoice_items ii JOIN packages p ON p.id = ii.package_id WHERE ii.invoice_id = $1`,
    [invoiceId],
  );
  return rows;
}

export interface FileSumsRow {
  name: string;
  size_bytes: number;
  md5: string;
  sha256: string;
}

/** The active files of these packages, in the packages' and the files' order. */
export async function activeFiles(db: Queryable, packageIds: number[]): Promise<FileSumsRow[]> {
  const { rows } = await db.query<FileSumsRow>(
    `SELECT name, size_bytes, md5, sha256 FROM package_files
      WHERE package_id = ANY($1) AND active ORDER BY package_id, position, id`,
    [packageIds],
  );
  return rows;
}

export interface KeyFileRow {
  package_file_id: number;
  name: string;
  size_bytes: number;
  md5: string;
  sha256: string;
  download_limit: number | null;
}

/**
 * The files an invoice's keys open, with the package's download limit: every file it was keyed for
 * in any generation (a retired file stays with the invoices that had it: resend, extend, reminder
 * and regenerate still carry it) and every active file of its packages (the first delivery's
 * files, and a new version's, which an extend brings to earlier buyers).
 */
export async function invoiceKeyFiles(db: Queryable, invoiceId: number): Promise<KeyFileRow[]> {
  const { rows } = await db.query<KeyFileRow>(
    `SELECT pf.id AS package_file_id, pf.name, pf.size_bytes, pf.md5, pf.sha256, p.download_limit
       FROM invoice_items ii
       JOIN packages p ON p.id = ii.package_id
       JOIN package_files pf ON pf.package_id = p.id
      WHERE ii.invoice_id = $1
        AND (pf.active OR EXISTS (SELECT 1 FROM download_keys k WHERE k.invoice_id = $1 AND k.package_file_id = pf.id))
      ORDER BY p.id, pf.position, pf.id`,
    [invoiceId],
  );
  return rows;
}

export interface PackageNotificationRow {
  id: number;
  name: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  package_name: string;
  support_text: string;
}

/** The active notifications of an invoice's packages (e.g. how to get support). */
export async function invoicePackageNotifications(db: Queryable, invoiceId: number): Promise<PackageNotificationRow[]> {
  const { rows } = await db.query<PackageNotificationRow>(
    `SELECT n.id, n.name, n.subject, n.text_body, n.html_body, p.name AS package_name, p.support_text
       FROM invoice_items ii
       JOIN packages p ON p.id = ii.package_id
       JOIN package_notifications n ON n.package_id = p.id AND n.active
      WHERE ii.invoice_id = $1
      ORDER BY p.id, n.position, n.id`,
    [invoiceId],
  );
  return rows;
}

export interface StorePackage {
  itemNumber: string;
  name: string;
  price: string;
  currency: string;
  description: string;
}

/** What the store sells: the active packages by name. */
export async function packagesForSale(db: Queryable): Promise<StorePackage[]> {
  const { rows } = await db.query<StorePackage>('SELECT item_number AS "itemNumber", name, price::text AS price, currency, description FROM packages WHERE active ORDER BY name');
  return rows;
}

/** The support texts of an invoice's packages, as the delivery e-mail joins them (the thank-you page shows the same). */
export async function invoiceSupportTexts(db: Queryable, invoiceId: number): Promise<string[]> {
  const { rows } = await db.query<{ text: string }>(
    `SELECT btrim(p.support_text) AS text FROM invoice_items ii JOIN packages p ON p.id = ii.package_id
      WHERE ii.invoice_id = $1 AND btrim(p.support_text) <> '' ORDER BY p.id`,
    [invoiceId],
  );
  return rows.map((r) => r.text);
}

/** Adds a package unless its item number is taken; its id, or undefined when taken. */
export async function insertPackageIfNew(
  db: Queryable,
  pkg: { itemNumber: string; name: string; currency: string; price: string; supportText: string },
): Promise<number | undefined> {
  const inserted = await db.query<{ id: number }>(
    `INSERT INTO packages (item_number, name, currency, price, support_text)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (item_number) DO NOTHING RETURNING id`,
    [pkg.itemNumber, pkg.name, pkg.currency, pkg.price, pkg.supportText],
  );
  return inserted.rows[0]?.id;
}

/** A package's id and how many files it has (active or not). */
export async function packageFileCount(db: Queryable, itemNumber: string): Promise<{ id: number; files: number } | undefined> {
  const { rows } = await db.query<{ id: number; files: number }>(
    'SELECT id, (SELECT count(*)::int FROM package_files f WHERE f.package_id = p.id) AS files FROM packages p WHERE item_number = $1',
    [itemNumber],
  );
  return rows[0];
}

/** Records a package's file (a file of the same name is replaced and made active again); its id. */
export async function upsertPackageFile(
  db: Queryable,
  file: { packageId: number; name: string; storagePath: string; size: number; md5: string; sha256: string; contentType: string },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO package_files (package_id, name, storage_path, size_bytes, md5, sha256, content_type)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (package_id, name) DO UPDATE
       SET storage_path = EXCLUDED.storage_path, size_bytes = EXCLUDED.size_bytes, md5 = EXCLUDED.md5,
           sha256 = EXCLUDED.sha256, content_type = EXCLUDED.content_type, active = true
     RETURNING id`,
    [file.packageId, file.name, file.storagePath, file.size, file.md5, file.sha256, file.contentType],
  );
  return rows[0]!.id;
}

// The admin's catalogue.

export interface PackageRow {
  id: number;
  itemNumber: string;
  name: string;
  currency: string;
  price: string;
  keyTtlSeconds: number | null;
  downloadLimit: number | null;
  reminderHours: number | null;
  selfService: boolean;
  refundPolicy: RefundPolicy;
  disputePolicy: DisputePolicy;
  supportText: string;
  active: boolean;
  /** What the package delivers besides files (kinds/), with the kind's settings. */
  kind: PackageKind;
  kindSettings: Record<string, unknown>;
  /** License-key settings; null when the package issues none. */
  license: Record<string, unknown> | null;
  description: string;
  createdAt: Date;
  updatedAt: Date;
  fileCount: number;
  paidInvoices: number;
}

export interface PackageFileRow {
  id: number;
  name: string;
  storagePath: string;
  sizeBytes: string;
  md5: string;
  sha256: string;
  contentType: string;
  active: boolean;
  createdAt: Date;
}

// Paid invoices: those whose keys may download (constants of ours, not input, in the SQL text).
const packageColumns = `p.id, p.item_number AS "itemNumber", p.name, trim(p.currency) AS currency, p.price::text AS price, p.key_ttl_seconds AS "keyTtlSeconds",
  p.download_limit AS "downloadLimit", p.reminder_hours AS "reminderHours", p.self_service AS "selfService", p.support_text AS "supportText", p.active,
  p.refund_policy AS "refundPolicy", p.dispute_policy AS "disputePolicy",
  p.kind, p.kind_settings AS "kindSettings", p.license_settings AS license, p.description,
  p.created_at AS "createdAt", p.updated_at AS "updatedAt",
  (SELECT count(*)::int FROM package_files f WHERE f.package_id = p.id AND f.active) AS "fileCount",
  (SELECT count(*)::int FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id
    WHERE ii.package_id = p.id AND i.status IN (${sqlList(liveStatuses)})) AS "paidInvoices"`;

export async function listPackages(db: Queryable): Promise<PackageRow[]> {
  const { rows } = await db.query<PackageRow>(`SELECT ${packageColumns} FROM packages p ORDER BY p.active DESC, p.name`);
  return rows;
}

/** With `lock`, the package's row stays locked until the transaction ends (a seat's claim waits for it). */
export async function findPackage(db: Queryable, itemNumber: string, lock = false): Promise<PackageRow | undefined> {
  const { rows } = await db.query<PackageRow>(`SELECT ${packageColumns} FROM packages p WHERE p.item_number = $1${lock ? ' FOR UPDATE OF p' : ''}`, [itemNumber]);
  return rows[0];
}

/** Every file of a package, the active ones first. */
export async function packageFiles(db: Queryable, packageId: number): Promise<PackageFileRow[]> {
  const { rows } = await db.query<PackageFileRow>(
    `SELECT id, name, storage_path AS "storagePath", size_bytes::text AS "sizeBytes", md5, sha256, content_type AS "contentType", active, created_at AS "createdAt"
       FROM package_files WHERE package_id = $1 ORDER BY active DESC, position, id`,
    [packageId],
  );
  return rows;
}

/** A package's columns as the admin writes them (key_ttl_seconds already parsed). */
export interface PackageValues {
  itemNumber: string;
  name: string;
  currency: string;
  price: string;
  keyTtlSeconds: number | null;
  downloadLimit: number | null;
  reminderHours: number | null;
  selfService: boolean;
  supportText: string;
  active: boolean;
  /** Left as they are on an update when not given (a new package takes the defaults). */
  refundPolicy?: RefundPolicy;
  disputePolicy?: DisputePolicy;
  kind?: PackageKind;
  kindSettings?: Record<string, unknown>;
  /** null: no license keys; undefined: unchanged. */
  license?: Record<string, unknown> | null;
  description?: string;
}

const columnValues = (v: PackageValues): unknown[] => [
  v.itemNumber,
  v.name,
  v.currency,
  v.price,
  v.keyTtlSeconds,
  v.downloadLimit,
  v.reminderHours,
  v.selfService,
  v.supportText,
  v.active,
  v.refundPolicy ?? null,
  v.disputePolicy ?? null,
  v.kind ?? null,
  v.kindSettings === undefined ? null : JSON.stringify(v.kindSettings),
  v.license === undefined ? null : v.license === null ? 'null' : JSON.stringify(v.license),
  v.description ?? null,
];

/** Creates a package; undefined when the item number is taken. */
export async function createPackage(db: Queryable, values: PackageValues): Promise<number | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO packages (item_number, name, currency, price, key_ttl_seconds, download_limit, reminder_hours, self_service, support_text, active, refund_policy, dispute_policy,
                           kind, kind_settings, license_settings, description)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11, '${defaultRefundPolicy}'), COALESCE($12, '${defaultDisputePolicy}'),
             COALESCE($13, 'files'), COALESCE($14::jsonb, '{}'), nullif($15::jsonb, 'null'::jsonb), COALESCE($16, ''))
     ON CONFLICT (item_number) DO NOTHING RETURNING id`,
    columnValues(values),
  );
  return rows[0] ? Number(rows[0].id) : undefined;
}

/** Updates everything but the item number (PayPal buttons and invoices name the package by it). */
export async function updatePackage(db: Queryable, itemNumber: string, values: PackageValues): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE packages SET name = $2, currency = $3, price = $4, key_ttl_seconds = $5, download_limit = $6, reminder_hours = $7,
            self_service = $8, support_text = $9, active = $10,
            refund_policy = COALESCE($11, refund_policy), dispute_policy = COALESCE($12, dispute_policy),
            kind = COALESCE($13, kind), kind_settings = COALESCE($14::jsonb, kind_settings),
            license_settings = CASE WHEN $15::jsonb IS NULL THEN license_settings ELSE nullif($15::jsonb, 'null'::jsonb) END,
            description = COALESCE($16, description), updated_at = now()
      WHERE item_number = $1`,
    [itemNumber, ...columnValues(values).slice(1)],
  );
  return (rowCount ?? 0) > 0;
}

/** Retires a package's file (new buyers no longer get it; invoices keyed for it keep it) or brings it back; false when the package has no such file. */
export async function setFileActive(db: Queryable, packageId: number, fileId: number, active: boolean): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE package_files SET active = $3 WHERE package_id = $1 AND id = $2', [packageId, fileId, active]);
  return (rowCount ?? 0) > 0;
}

// A package's own notifications, as the admin edits them.

export interface NotificationRow {
  id: number;
  name: string;
  subject: string;
  textBody: string;
  htmlBody: string | null;
  active: boolean;
  createdAt: Date;
}

export interface NotificationValues {
  name: string;
  subject: string;
  textBody: string;
  htmlBody: string | null;
  active: boolean;
}

const notificationColumns = `id::int, name, subject, text_body AS "textBody", html_body AS "htmlBody", active, created_at AS "createdAt"`;

/** Every notification of a package, the active ones first. */
export async function packageNotifications(db: Queryable, packageId: number): Promise<NotificationRow[]> {
  const { rows } = await db.query<NotificationRow>(
    `SELECT ${notificationColumns} FROM package_notifications WHERE package_id = $1 ORDER BY active DESC, position, id`,
    [packageId],
  );
  return rows;
}

export async function findNotification(db: Queryable, packageId: number, id: number): Promise<NotificationRow | undefined> {
  const { rows } = await db.query<NotificationRow>(`SELECT ${notificationColumns} FROM package_notifications WHERE package_id = $1 AND id = $2`, [packageId, id]);
  return rows[0];
}

/** Adds a notification; undefined when the package already has one of that name. */
export async function insertNotification(db: Queryable, packageId: number, v: NotificationValues): Promise<NotificationRow | undefined> {
  const { rows } = await db.query<NotificationRow>(
    `INSERT INTO package_notifications (package_id, name, subject, text_body, html_body, active, position)
     VALUES ($1, $2, $3, $4, $5, $6, (SELECT coalesce(max(position), 0) + 1 FROM package_notifications WHERE package_id = $1))
     ON CONFLICT (package_id, name) DO NOTHING RETURNING ${notificationColumns}`,
    [packageId, v.name, v.subject, v.textBody, v.htmlBody, v.active],
  );
  return rows[0];
}

/** Replaces a notification; 'missing' when there is none, 'taken' when another has the new name. */
export async function updateNotification(db: Queryable, packageId: number, id: number, v: NotificationValues): Promise<NotificationRow | 'missing' | 'taken'> {
  try {
    const { rows } = await db.query<NotificationRow>(
      `UPDATE package_notifications SET name = $3, subject = $4, text_body = $5, html_body = $6, active = $7
        WHERE package_id = $1 AND id = $2 RETURNING ${notificationColumns}`,
      [packageId, id, v.name, v.subject, v.textBody, v.htmlBody, v.active],
    );
    return rows[0] ?? 'missing';
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return 'taken';
    throw error;
  }
}

export async function setNotificationActive(db: Queryable, packageId: number, id: number, active: boolean): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE package_notifications SET active = $3 WHERE package_id = $1 AND id = $2', [packageId, id, active]);
  return (rowCount ?? 0) > 0;
}
