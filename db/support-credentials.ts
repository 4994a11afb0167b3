// The SQL of support logins (package kind 'support', kinds/support-credentials.ts): the seller's
// pool of credentials, claiming them for an invoice's units, generated ones, revoking and restoring
// them with the money, the invoices waiting for a refill, and what the admin reads. Tables:
// db/migrations/0930_support-credentials.sql.
import type { Queryable } from './pool';
import { invoiceStatus, sqlList } from '../domain/invoice-status';

// A wait counts while its invoice can still be delivered: held for review, or approved and retrying.
// One the operator rejected or refunded meanwhile waits for nothing.
const stillWaiting = `i.status IN (${sqlList([invoiceStatus.needs_review, invoiceStatus.paid])})`;

export type CredentialSource = 'pool' | 'generated';

/** One credential as the seller wrote it: a login and a password, or a single token (password null). */
export interface CredentialInput {
  login: string;
  password: string | null;
}

/** Which of these logins the package's pool already holds (given, revoked or waiting), lower-cased. */
export async function loginsInPool(db: Queryable, packageId: number, logins: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ login: string }>(
    `SELECT lower(login) AS login FROM support_credentials WHERE package_id = $1 AND lower(login) = ANY($2::text[])`,
    [packageId, logins.map((l) => l.toLowerCase())],
  );
  return new Set(rows.map((r) => r.login));
}

/**
 * Adds an upload to the pool in one statement, so either every line is stored or none is. False
 * when a login arrived meanwhile from another upload (the unique index refused the whole statement).
 */
export async function addToPool(db: Queryable, packageId: number, credentials: CredentialInput[]): Promise<boolean> {
  try {
    await db.query(
      `INSERT INTO support_credentials (package_id, source, login, password)
       SELECT $1, 'pool', c.login, c.password FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS c(login, password, n) ORDER BY c.n`,
      [packageId, credentials.map((c) => c.login), credentials.map((c) => c.password)],
    );
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return false; // unique_violation
    throw error;
  }
}

/** The units (1..quantity) of an invoice's item that hold a credential already. */
export async function heldUnits(db: Queryable, invoiceId: number, packageId: number): Promise<number[]> {
  const { rows } = await db.query<{ unit: number }>(`SELECT unit FROM support_credentials WHERE invoice_id = $1 AND package_id = $2 ORDER BY unit`, [invoiceId, packageId]);
  return rows.map((r) => r.unit);
}

/**
 * Gives the package's oldest free pool credentials to these units of the invoice, all or none, in
 * one statement. SKIP LOCKED: two buyers claiming at once each take rows the other has not locked,
 * so no credential goes to both; the unique (invoice, package, unit) makes a repeated claim fail
 * instead of taking a second credential. How many were claimed: units.length, or 0 when short.
 */
export async function claimFromPool(db: Queryable, packageId: number, invoiceId: number, units: number[]): Promise<number> {
  if (units.length === 0) return 0;
  const { rowCount } = await db.query(
    `WITH locked AS (
       SELECT id FROM support_credentials
        WHERE package_id = $1 AND invoice_id IS NULL
        ORDER BY id LIMIT cardinality($3::int[])
        FOR UPDATE SKIP LOCKED
     ), free AS (
       SELECT id, row_number() OVER (ORDER BY id)::int AS n, count(*) OVER () AS found FROM locked
     )
     UPDATE support_credentials c SET invoice_id = $2, unit = ($3::int[])[free.n], claimed_at = now()
       FROM free
      WHERE c.id = free.id AND free.found = cardinality($3::int[])`,
    [packageId, invoiceId, units],
  );
  return rowCount ?? 0;
}

/** A generated credential for one unit; false when the unit has one already or the login is taken. */
export async function insertGenerated(db: Queryable, row: { packageId: number; invoiceId: number; unit: number; login: string; password: string }): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO support_credentials (package_id, source, login, password, invoice_id, unit, claimed_at)
     VALUES ($1, 'generated', $2, $3, $4, $5, now()) ON CONFLICT DO NOTHING`,
    [row.packageId, row.login, row.password, row.invoiceId, row.unit],
  );
  return (rowCount ?? 0) > 0;
}

export interface InvoiceCredentialRow {
  id: number;
  packageId: number;
  itemNumber: string;
  packageName: string;
  source: CredentialSource;
  unit: number;
  login: string;
  password: string | null;
  claimedAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

/** An invoice's credentials, revoked ones included (the caller decides what to show). */
export async function invoiceCredentials(db: Queryable, invoiceId: number): Promise<InvoiceCredentialRow[]> {
  const { rows } = await db.query<InvoiceCredentialRow>(
    `SELECT c.id, c.package_id AS "packageId", p.item_number AS "itemNumber", p.name AS "packageName", c.source, c.unit, c.login, c.password,
            c.claimed_at AS "claimedAt", c.revoked_at AS "revokedAt", c.revoked_reason AS "revokedReason"
       FROM support_credentials c JOIN packages p ON p.id = c.package_id
      WHERE c.invoice_id = $1
      ORDER BY c.package_id, c.unit`,
    [invoiceId],
  );
  return rows;
}

// Invoices waiting for a refill.

/** The payment check found the pool short: remembered until the delivery fills it (the first noticing stays). */
export async function recordWait(db: Queryable, invoiceId: number, packageId: number, missing: number): Promise<void> {
  await db.query(
    `INSERT INTO support_credential_waits (invoice_id, package_id, missing) VALUES ($1, $2, $3)
     ON CONFLICT (invoice_id, package_id) DO UPDATE SET missing = EXCLUDED.missing WHERE support_credential_waits.filled_at IS NULL`,
    [invoiceId, packageId, missing],
  );
}

export async function fillWait(db: Queryable, invoiceId: number, packageId: number): Promise<void> {
  await db.query(`UPDATE support_credential_waits SET filled_at = now() WHERE invoice_id = $1 AND package_id = $2 AND filled_at IS NULL`, [invoiceId, packageId]);
}

/** The packages an invoice still waits for credentials of, by name. */
export async function openWaits(db: Queryable, invoiceId: number): Promise<{ packageName: string; missing: number }[]> {
  const { rows } = await db.query<{ packageName: string; missing: number }>(
    `SELECT p.name AS "packageName", w.missing FROM support_credential_waits w JOIN packages p ON p.id = w.package_id
      WHERE w.invoice_id = $1 AND w.filled_at IS NULL ORDER BY p.id`,
    [invoiceId],
  );
  return rows;
}

/** The invoices of a package waiting for a refill, oldest first: held for review, or approved and retrying their delivery. */
export async function waitingInvoices(db: Queryable, packageId: number): Promise<{ invoiceNumber: string; status: string; missing: number; noticedAt: Date }[]> {
  const { rows } = await db.query<{ invoiceNumber: string; status: string; missing: number; noticedAt: Date }>(
    `SELECT i.number AS "invoiceNumber", i.status, w.missing, w.noticed_at AS "noticedAt"
       FROM support_credential_waits w JOIN invoices i ON i.id = w.invoice_id
      WHERE w.package_id = $1 AND w.filled_at IS NULL AND ${stillWaiting}
      ORDER BY w.noticed_at, i.id`,
    [packageId],
  );
  return rows;
}

// The admin's view of a pool.

export interface PoolCounts {
  /** Waiting to be given. */
  left: number;
  /** Given and not revoked (pool and generated). */
  given: number;
  revoked: number;
  /** Invoices held or retrying because the pool ran empty. */
  waiting: number;
}

export async function poolCounts(db: Queryable, packageId: number): Promise<PoolCounts> {
  const { rows } = await db.query<PoolCounts>(
    `SELECT count(*) FILTER (WHERE invoice_id IS NULL)::int AS left,
            count(*) FILTER (WHERE invoice_id IS NOT NULL AND revoked_at IS NULL)::int AS given,
            count(*) FILTER (WHERE revoked_at IS NOT NULL)::int AS revoked,
            (SELECT count(*)::int FROM support_credential_waits w JOIN invoices i ON i.id = w.invoice_id
              WHERE w.package_id = $1 AND w.filled_at IS NULL AND ${stillWaiting}) AS waiting
       FROM support_credentials WHERE package_id = $1`,
    [packageId],
  );
  return rows[0]!;
}

export interface GivenCredentialRow {
  login: string;
  /** A single token (no password): the admin list masks it, since the token is the whole secret. */
  token: boolean;
  source: CredentialSource;
  invoiceNumber: string;
  unit: number;
  claimedAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

/** The newest credentials given from a package, without their passwords. */
export async function givenCredentials(db: Queryable, packageId: number, limit = 200): Promise<GivenCredentialRow[]> {
  const { rows } = await db.query<GivenCredentialRow>(
    `SELECT c.login, c.password IS NULL AS token, c.source, i.number AS "invoiceNumber", c.unit, c.claimed_at AS "claimedAt",
            c.revoked_at AS "revokedAt", c.revoked_reason AS "revokedReason"
       FROM support_credentials c JOIN invoices i ON i.id = c.invoice_id
      WHERE c.package_id = $1
      ORDER BY c.claimed_at DESC, c.id DESC LIMIT $2`,
    [packageId, limit],
  );
  return rows;
}
