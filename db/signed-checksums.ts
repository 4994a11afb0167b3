// The SQL of signed checksums' links (checksum_links): recording a generation's link with its
// keys, and reading what a link is for, with what judging it needs (kinds/signed-checksums.ts,
// api/signed-checksums.ts).
import type { Queryable } from './pool';

/**
 * Records the generation's link, only when the generation has download keys (an invoice without
 * files has nothing to sum). A retry records nothing new. True when the generation has a link.
 */
export async function insertChecksumLink(db: Queryable, link: { keyHash: Buffer; invoiceId: number; generation: number }): Promise<boolean> {
  const { rows } = await db.query<{ linked: boolean }>(
    `WITH inserted AS (
       INSERT INTO checksum_links (key_hash, invoice_id, generation)
       SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM download_keys WHERE invoice_id = $2 AND generation = $3)
       ON CONFLICT (invoice_id, generation) DO NOTHING
       RETURNING 1
     )
     SELECT EXISTS (SELECT 1 FROM inserted) OR EXISTS (SELECT 1 FROM checksum_links WHERE invoice_id = $2 AND generation = $3) AS linked`,
    [link.keyHash, link.invoiceId, link.generation],
  );
  return rows[0]?.linked === true;
}

/** The link with this key hash exists for this invoice's generation (a KEY_SECRET other than the worker's derives another). */
export async function checksumLinkExists(db: Queryable, keyHash: Buffer, invoiceId: number, generation: number): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM checksum_links WHERE key_hash = $1 AND invoice_id = $2 AND generation = $3', [keyHash, invoiceId, generation]);
  return (rowCount ?? 0) > 0;
}

export interface ChecksumLinkRow {
  invoiceId: number;
  invoiceNumber: string;
  invoiceStatus: string;
  generation: number;
  /** When the generation was issued: the signature's timestamp, so the same link always gets the same signature. */
  issuedAt: Date;
  expiresAt: Date | null;
  /** Every key of the generation has expired. */
  expired: boolean;
  /** A key of the generation was revoked (regenerated, refunded, reversed). */
  revoked: boolean;
  revokedReason: string | null;
}

/** What a link is for and its generation's state; undefined when unknown. */
export async function findChecksumLink(db: Queryable, keyHash: Buffer): Promise<ChecksumLinkRow | undefined> {
  const { rows } = await db.query<ChecksumLinkRow>(
    `SELECT l.invoice_id AS "invoiceId", i.number AS "invoiceNumber", i.status AS "invoiceStatus", l.generation, g.created_at AS "issuedAt",
            k.expires_at AS "expiresAt", COALESCE(k.expired, true) AS expired, COALESCE(k.revoked, false) AS revoked, k.revoked_reason AS "revokedReason"
       FROM checksum_links l
       JOIN invoices i ON i.id = l.invoice_id
       JOIN key_generations g ON g.invoice_id = l.invoice_id AND g.generation = l.generation
       LEFT JOIN LATERAL (
         SELECT max(expires_at) AS expires_at, bool_and(expires_at <= now()) AS expired, bool_or(revoked_at IS NOT NULL) AS revoked, max(revoked_reason) AS revoked_reason
           FROM download_keys WHERE invoice_id = l.invoice_id AND generation = l.generation
       ) k ON true
      WHERE l.key_hash = $1`,
    [keyHash],
  );
  return rows[0];
}
