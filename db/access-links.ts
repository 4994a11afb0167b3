// The SQL of access links (kinds/access.ts, migration 0910): issuing one per invoice, package and
// key generation (older generations revoked), revoking and restoring them with the invoice's
// keys, looking one up by its SHA-256 for the /a/ route, and the log of every use.
import type { Queryable } from './pool';

export interface IssuedAccessLink {
  packageId: number;
  keyHash: Buffer;
}

/**
 * This generation's links (a retry or an extend finds them and moves their expiry) and the older
 * generations' links revoked: one statement.
 */
export async function storeAccessLinks(db: Queryable, input: { invoiceId: number; generation: number; expiresAt: string; links: IssuedAccessLink[] }): Promise<void> {
  await db.query(
    `WITH issued AS (
       INSERT INTO access_links (invoice_id, package_id, generation, key_hash, expires_at)
       SELECT $1, l.package_id, $2, l.key_hash, $3::timestamptz FROM unnest($4::bigint[], $5::bytea[]) AS l(package_id, key_hash)
       ON CONFLICT (invoice_id, package_id, generation) DO UPDATE SET expires_at = EXCLUDED.expires_at
     )
     UPDATE access_links SET revoked_at = now(), revoked_reason = 'regenerated'
      WHERE invoice_id = $1 AND generation < $2 AND revoked_at IS NULL`,
    [input.invoiceId, input.generation, input.expiresAt, input.links.map((l) => l.packageId), input.links.map((l) => l.keyHash)],
  );
}

/** The SHA-256 of each package's link in one generation of an invoice. */
export async function generationAccessHashes(db: Queryable, invoiceId: number, generation: number): Promise<Map<number, Buffer>> {
  const { rows } = await db.query<{ package_id: string; key_hash: Buffer }>('SELECT package_id, key_hash FROM access_links WHERE invoice_id = $1 AND generation = $2', [invoiceId, generation]);
  return new Map(rows.map((r) => [Number(r.package_id), r.key_hash]));
}

export interface AccessLinkRow {
  id: number;
  invoiceId: number;
  invoiceStatus: string;
  generation: number;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  packageName: string;
  /** The package's access settings as stored (kinds/access.ts reads them). */
  settings: Record<string, unknown>;
}

/** A link by its SHA-256, with its invoice's status and its package's settings as they are now. */
export async function findAccessLink(db: Queryable, keyHash: Buffer): Promise<AccessLinkRow | undefined> {
  const { rows } = await db.query<AccessLinkRow>({
    name: 'access-find-link',
    text: `SELECT l.id::int, l.invoice_id::int AS "invoiceId", i.status AS "invoiceStatus", l.generation, l.expires_at AS "expiresAt",
                  l.revoked_at AS "revokedAt", l.revoked_reason AS "revokedReason", p.name AS "packageName", p.kind_settings AS settings
             FROM access_links l JOIN invoices i ON i.id = l.invoice_id JOIN packages p ON p.id = l.package_id
            WHERE l.key_hash = $1`,
    values: [keyHash],
  });
  return rows[0];
}

/** Logs one request for a known link (unknown links are only rate-limited, never stored). */
export async function logAccess(
  db: Queryable,
  link: Pick<AccessLinkRow, 'id' | 'invoiceId'>,
  use: { at: Date; remoteAddr: string; userAgent: string | undefined; status: number; outcome: string },
): Promise<void> {
  await db.query('INSERT INTO access_events (access_link_id, invoice_id, at, remote_addr, user_agent, status_code, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    link.id,
    link.invoiceId,
    use.at,
    use.remoteAddr,
    use.userAgent ?? null,
    use.status,
    use.outcome,
  ]);
}

export interface AccessEventRow {
  id: number;
  packageName: string;
  generation: number;
  at: Date;
  remoteAddr: string | null;
  userAgent: string | null;
  statusCode: number;
  outcome: string;
}

/** An invoice's newest 200 access-link requests (in the order they came), for the admin's invoice page. */
export async function invoiceAccessEvents(db: Queryable, invoiceId: number): Promise<AccessEventRow[]> {
  const { rows } = await db.query<AccessEventRow>(
    `SELECT e.id::int, p.name AS "packageName", l.generation, e.at, e.remote_addr AS "remoteAddr", e.user_agent AS "userAgent",
            e.status_code AS "statusCode", e.outcome
       FROM access_events e JOIN access_links l ON l.id = e.access_link_id JOIN packages p ON p.id = l.package_id
      WHERE e.invoice_id = $1 ORDER BY e.id DESC LIMIT 200`,
    [invoiceId],
  );
  return rows;
}
