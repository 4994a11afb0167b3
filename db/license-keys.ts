// The SQL of license keys (kinds/license-keys.ts says what they are): issuing them in the
// delivery's transaction, reading them for the e-mail and the thank-you page, the public verify
// lookup, the admin's lists, revoke and reissue, and what a refund or a cancelled reversal does.
import type { Queryable } from './pool';
import type { LicenseFormat } from '../domain/license-keys';

export interface LicenseKeyRow {
  id: number;
  invoice_id: number;
  package_id: number;
  unit: number;
  serial: number;
  format: LicenseFormat;
  version: string;
  payload: string | null;
  key_tail: string;
  issued_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

/** A key with what the admin lists beside it: its invoice and package. */
export interface LicenseKeyListRow extends LicenseKeyRow {
  invoice_number: string;
  txn_id: string;
  invoice_status: string;
  payer_email: string;
  item_number: string;
  package_name: string;
}

export interface NewLicenseKey {
  invoiceId: number;
  packageId: number;
  unit: number;
  serial: number;
  format: LicenseFormat;
  version: string;
  payload: string | null;
  keyHash: Buffer;
  keyTail: string;
  expiresAt: string | null;
}

const keyColumns = `k.id, k.invoice_id, k.package_id, k.unit, k.serial, k.format, k.version, k.payload, k.key_tail,
                    k.issued_at, k.expires_at, k.revoked_at, k.revoked_reason`;

/** The units of a package that already have a key (any serial): a retry or a resend issues none again. */
export async function issuedUnits(db: Queryable, invoiceId: number, packageId: number): Promise<Set<number>> {
  const { rows } = await db.query<{ unit: number }>('SELECT DISTINCT unit FROM license_keys WHERE invoice_id = $1 AND package_id = $2', [invoiceId, packageId]);
  return new Set(rows.map((r) => r.unit));
}

/** Inserts keys; one that exists (same invoice, package, unit and serial) is left as it is. */
export async function insertLicenseKeys(db: Queryable, keys: NewLicenseKey[]): Promise<number> {
  if (keys.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO license_keys (invoice_id, package_id, unit, serial, format, version, payload, key_hash, key_tail, expires_at)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::text[], $10::timestamptz[])
     ON CONFLICT (invoice_id, package_id, unit, serial) DO NOTHING`,
    [
      keys.map((k) => k.invoiceId),
      keys.map((k) => k.packageId),
      keys.map((k) => k.unit),
      keys.map((k) => k.serial),
      keys.map((k) => k.format),
      keys.map((k) => k.version),
      keys.map((k) => k.payload),
      keys.map((k) => k.keyHash),
      keys.map((k) => k.keyTail),
      keys.map((k) => k.expiresAt),
    ],
  );
  return rowCount ?? 0;
}

/** The keys the buyer holds now (not revoked), by package and unit: what the e-mail and the thank-you page show. */
export async function liveLicenseKeys(db: Queryable, invoiceId: number): Promise<LicenseKeyRow[]> {
  const { rows } = await db.query<LicenseKeyRow>(`SELECT ${keyColumns} FROM license_keys k WHERE k.invoice_id = $1 AND k.revoked_at IS NULL ORDER BY k.package_id, k.unit`, [invoiceId]);
  return rows;
}

/** When the invoice was paid (a key's expiry counts from then); now for an invoice not yet marked paid. */
export async function purchaseTime(db: Queryable, invoiceId: number): Promise<Date> {
  const { rows } = await db.query<{ at: Date }>('SELECT COALESCE(paid_at, now()) AS at FROM invoices WHERE id = $1', [invoiceId]);
  return rows[0]?.at ?? new Date();
}

/**
 * The public lookup: a key by its hash AND the package asked about, in one statement, so a key of
 * another package is found exactly as often (never) and as fast as a key that does not exist.
 */
export async function findLicenseKey(db: Queryable, keyHash: Buffer, itemNumber: string): Promise<{ revoked_at: Date | null; expires_at: Date | null; invoice_status: string; version: string } | undefined> {
  const { rows } = await db.query<{ revoked_at: Date | null; expires_at: Date | null; invoice_status: string; version: string }>(
    `SELECT k.revoked_at, k.expires_at, i.status AS invoice_status, k.version
       FROM license_keys k
       JOIN packages p ON p.id = k.package_id
       JOIN invoices i ON i.id = k.invoice_id
      WHERE k.key_hash = $1 AND p.item_number = $2`,
    [keyHash, itemNumber],
  );
  return rows[0];
}

const listColumns = `${keyColumns}, i.number AS invoice_number, i.txn_id, i.status AS invoice_status, i.payer_email, p.item_number, p.name AS package_name
                 FROM license_keys k
                 JOIN invoices i ON i.id = k.invoice_id
                 JOIN packages p ON p.id = k.package_id`;

/** A package's keys, newest first (the admin's package page lists the newest 200). */
export async function packageLicenseKeys(db: Queryable, packageId: number, limit = 200): Promise<LicenseKeyListRow[]> {
  const { rows } = await db.query<LicenseKeyListRow>(`SELECT ${listColumns} WHERE k.package_id = $1 ORDER BY k.issued_at DESC, k.id DESC LIMIT $2`, [packageId, limit]);
  return rows;
}

export async function invoiceLicenseKeys(db: Queryable, invoiceId: number): Promise<LicenseKeyListRow[]> {
  const { rows } = await db.query<LicenseKeyListRow>(`SELECT ${listColumns} WHERE k.invoice_id = $1 ORDER BY k.package_id, k.unit, k.serial`, [invoiceId]);
  return rows;
}

export async function findLicenseKeyById(db: Queryable, id: number, options: { lock?: boolean } = {}): Promise<LicenseKeyListRow | undefined> {
  const { rows } = await db.query<LicenseKeyListRow>(`SELECT ${listColumns} WHERE k.id = $1${options.lock ? ' FOR UPDATE OF k' : ''}`, [id]);
  return rows[0];
}

/** Revokes one key; false when it was revoked already. */
export async function revokeLicenseKey(db: Queryable, id: number, reason: 'admin' | 'reissued'): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE license_keys SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL`, [id, reason]);
  return rowCount === 1;
}

/** The unit's newest serial: only its newest key may be reissued. */
export async function newestSerial(db: Queryable, invoiceId: number, packageId: number, unit: number): Promise<number> {
  const { rows } = await db.query<{ serial: number }>('SELECT max(serial) AS serial FROM license_keys WHERE invoice_id = $1 AND package_id = $2 AND unit = $3', [invoiceId, packageId, unit]);
  return rows[0]?.serial ?? 0;
}
