// The admin's packages: list, detail, create and edit, and the buyers of one package (the CSV an
// event organiser takes as the attendee list). Files are added through catalog/package-files.ts.
import { z } from 'zod';
import { parseDurationSeconds } from '../../config/env';
import type { Pool } from '../../db/pool';
import { downloadableStatuses, sqlList } from '../../domain/invoice-status';
import { priceShape } from '../../domain/money';

const checkbox = z.preprocess((v) => v === true || v === 'on' || v === 'true' || v === '1', z.boolean());
const optionalInt = (what: string) =>
  z.preprocess((v) => (v === '' || v === null || v === undefined ? null : v), z.coerce.number({ error: `must be a whole number of ${what}` }).int().min(1).nullable());

/** What create and edit take, from a form or JSON (empty optional fields mean "none"). */
export const packageInputSchema = z.object({
  itemNumber: z.string().trim().regex(/^[A-Za-z0-9._-]{1,127}$/, 'must be letters, digits, dot, dash or underscore (what the PayPal button sends as item_number)'),
  name: z.string().trim().min(1, 'must not be empty').max(127),
  currency: z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, 'must be a three-letter currency code such as USD'),
  price: z.coerce.string().trim().regex(priceShape, 'must be an amount such as 19.95'),
  /** "3d", "72h"...; empty: KEY_TTL. */
  keyTtl: z.preprocess(
    (v) => (v === '' || v === null || v === undefined ? null : String(v)),
    z
      .string()
      .nullable()
      .refine((v) => v === null || parseDurationSeconds(v) !== undefined, 'must be a duration such as 3d, 72h or 90m, or empty for KEY_TTL'),
  ),
  downloadLimit: optionalInt('downloads'),
  reminderHours: optionalInt('hours'),
  selfService: checkbox,
  supportText: z.string().max(10_000).default(''),
  active: checkbox,
});
export type PackageInput = z.output<typeof packageInputSchema>;

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
  supportText: string;
  active: boolean;
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

export interface BulkActionRow {
  workflowId: string;
  kind: string;
  days: number;
  note: string | null;
  startedBy: string;
  createdAt: Date;
}

/** The statuses whose invoices count as a package's buyers (their keys may download). */
const paidStatusList = sqlList(downloadableStatuses);

const packageColumns = `p.id, p.item_number AS "itemNumber", p.name, trim(p.currency) AS currency, p.price::text AS price, p.key_ttl_seconds AS "keyTtlSeconds",
  p.download_limit AS "downloadLimit", p.reminder_hours AS "reminderHours", p.self_service AS "selfService", p.support_text AS "supportText", p.active,
  p.created_at AS "createdAt", p.updated_at AS "updatedAt",
  (SELECT count(*)::int FROM package_files f WHERE f.package_id = p.id AND f.active) AS "fileCount",
  (SELECT count(*)::int FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id
    WHERE ii.package_id = p.id AND i.status IN (${paidStatusList})) AS "paidInvoices"`;

const withId = <T extends { id: number | string }>(row: T): T => ({ ...row, id: Number(row.id) });

export async function listPackages(pool: Pool): Promise<PackageRow[]> {
  const { rows } = await pool.query<PackageRow>(`SELECT ${packageColumns} FROM packages p ORDER BY p.active DESC, p.name`);
  return rows.map(withId);
}

export async function packageDetail(pool: Pool, itemNumber: string): Promise<{ pkg: PackageRow; files: PackageFileRow[]; bulk: BulkActionRow[] } | undefined> {
  const { rows } = await pool.query<PackageRow>(`SELECT ${packageColumns} FROM packages p WHERE p.item_number = $1`, [itemNumber]);
  const pkg = rows[0];
  if (!pkg) return undefined;
  const [files, bulk] = await Promise.all([
    pool.query<PackageFileRow>(
      `SELECT id, name, storage_path AS "storagePath", size_bytes::text AS "sizeBytes", md5, sha256, content_type AS "contentType", active, created_at AS "createdAt"
         FROM package_files WHERE package_id = $1 ORDER BY active DESC, position, id`,
      [pkg.id],
    ),
    pool.query<BulkActionRow>(
      `SELECT workflow_id AS "workflowId", kind, days, note, started_by AS "startedBy", created_at AS "createdAt"
         FROM bulk_actions WHERE package_id = $1 ORDER BY created_at DESC LIMIT 20`,
      [pkg.id],
    ),
  ]);
  return { pkg: withId(pkg), files: files.rows.map(withId), bulk: bulk.rows };
}

function values(input: PackageInput): unknown[] {
  const ttl = input.keyTtl === null ? null : (parseDurationSeconds(input.keyTtl) ?? null);
  return [input.itemNumber, input.name, input.currency, input.price, ttl, input.downloadLimit, input.reminderHours, input.selfService, input.supportText, input.active];
}

/** Creates a package; undefined when the item number is taken. */
export async function createPackage(pool: Pool, input: PackageInput): Promise<number | undefined> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO packages (item_number, name, currency, price, key_ttl_seconds, download_limit, reminder_hours, self_service, support_text, active)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (item_number) DO NOTHING RETURNING id`,
    values(input),
  );
  return rows[0] ? Number(rows[0].id) : undefined;
}

/** Updates everything but the item number (PayPal buttons and invoices name the package by it). */
export async function updatePackage(pool: Pool, itemNumber: string, input: PackageInput): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE packages SET name = $2, currency = $3, price = $4, key_ttl_seconds = $5, download_limit = $6, reminder_hours = $7,
            self_service = $8, support_text = $9, active = $10, updated_at = now()
      WHERE item_number = $1`,
    [itemNumber, ...values(input).slice(1)],
  );
  return (rowCount ?? 0) > 0;
}

export interface BuyerRow {
  invoice: string;
  date: string;
  email: string;
  firstName: string;
  lastName: string;
  quantity: number;
  amount: string;
  currency: string;
  status: string;
  txnId: string;
}

/** Everyone who paid for the package and was not refunded, oldest first. */
export async function packageBuyers(pool: Pool, itemNumber: string): Promise<BuyerRow[]> {
  const { rows } = await pool.query<BuyerRow>(
    `SELECT i.number AS invoice, to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS date, i.payer_email AS email,
            coalesce(a.first_name, '') AS "firstName", coalesce(a.last_name, '') AS "lastName", ii.quantity,
            i.amount::text AS amount, trim(i.currency) AS currency, i.status, i.txn_id AS "txnId"
       FROM invoice_items ii JOIN packages p ON p.id = ii.package_id JOIN invoices i ON i.id = ii.invoice_id LEFT JOIN accounts a ON a.id = i.account_id
      WHERE p.item_number = $1 AND i.status IN (${paidStatusList})
      ORDER BY i.created_at, i.id`,
    [itemNumber],
  );
  return rows;
}
