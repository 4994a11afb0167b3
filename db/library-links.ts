// The SQL of buyers' libraries (table library_links): a request for the library e-mail recorded
// with its answer decided in Postgres, its send and retries, the one statement that uses its
// single-use link, and what a library lists: every invoice paid from one e-mail address.
import { inTransaction, type Pool, type Queryable } from './pool';

export type LibraryRequestStatus = 'no_purchases' | 'limited' | 'pending' | 'sent' | 'failed';

export interface LibraryRequestInput {
  email: string;
  /** The link's salt and the SHA-256 of the link it derives; kept only when an e-mail is due. */
  salt: Buffer;
  tokenHash: Buffer;
  remoteAddr: string;
  userAgent: string | null;
  linkTtlSeconds: number;
  /** Library e-mails an address may receive an hour; past it the request is recorded as 'limited'. */
  emailsPerHour: number;
}

export interface LibraryRequest {
  id: number;
  status: LibraryRequestStatus;
}

/**
 * Records a request for the library e-mail and decides, in the same statement, whether one is due:
 * 'no_purchases' when no invoice was paid from the address, 'limited' past the hourly limit, else
 * 'pending' (the caller sends it). Requests for one address are serialised (an advisory lock until
 * commit), so a burst cannot slip past the limit; every address costs the same two statements.
 */
export async function recordLibraryRequest(pool: Pool, r: LibraryRequestInput): Promise<LibraryRequest> {
  return inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('keyship library ' || lower($1)))", [r.email]);
    const { rows } = await client.query<LibraryRequest>(
      `WITH decided AS (
         SELECT bought.n AS invoice_count,
                CASE WHEN bought.n = 0 THEN 'no_purchases' WHEN recent.n >= $7 THEN 'limited' ELSE 'pending' END AS status
           FROM (SELECT count(*)::int AS n FROM invoices WHERE lower(payer_email) = lower($1)) bought,
                (SELECT count(*)::int AS n FROM library_links
                  WHERE lower(email) = lower($1) AND status IN ('pending', 'sent', 'failed') AND created_at > now() - interval '1 hour') recent)
       INSERT INTO library_links (email, status, invoice_count, salt, token_hash, remote_addr, user_agent, expires_at, attempts, next_attempt_at)
       SELECT $1, d.status, d.invoice_count,
              CASE WHEN d.status = 'pending' THEN $2::bytea END, CASE WHEN d.status = 'pending' THEN $3::bytea END,
              $4, $5, now() + make_interval(secs => $6),
              CASE WHEN d.status = 'pending' THEN 1 ELSE 0 END,
              CASE WHEN d.status = 'pending' THEN now() + interval '1 minute' END
         FROM decided d
       RETURNING id, status`,
      [r.email, r.salt, r.tokenHash, r.remoteAddr, r.userAgent, r.linkTtlSeconds, r.emailsPerHour],
    );
    return rows[0]!;
  });
}

export interface LibraryMailDue {
  id: number;
  email: string;
  salt: Buffer;
  expires_at: Date;
  attempts: number;
}

/**
 * Claims library e-mails that have not gone out and whose link is still valid, for one more
 * attempt each (the next one a minute later per attempt made, up to 30); SKIP LOCKED lets several
 * api processes sweep at once without sending one twice in the same round.
 */
export async function claimLibraryRetries(db: Queryable, limit = 20): Promise<LibraryMailDue[]> {
  const { rows } = await db.query<LibraryMailDue>(
    `UPDATE library_links l SET attempts = l.attempts + 1, next_attempt_at = now() + make_interval(mins => least(l.attempts + 1, 30))
      WHERE l.id IN (SELECT id FROM library_links
                      WHERE status IN ('pending', 'failed') AND next_attempt_at <= now() AND expires_at > now()
                      ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING l.id, l.email, l.salt, l.expires_at, l.attempts`,
    [limit],
  );
  return rows;
}

export async function libraryMailDue(db: Queryable, id: number): Promise<LibraryMailDue | undefined> {
  const { rows } = await db.query<LibraryMailDue>(`SELECT id, email, salt, expires_at, attempts FROM library_links WHERE id = $1 AND status IN ('pending', 'failed')`, [id]);
  return rows[0];
}

export async function markLibraryMailSent(db: Queryable, id: number): Promise<void> {
  await db.query(`UPDATE library_links SET status = 'sent', sent_at = now(), error = NULL, next_attempt_at = NULL WHERE id = $1`, [id]);
}

export async function markLibraryMailFailed(db: Queryable, id: number, error: string): Promise<void> {
  await db.query(`UPDATE library_links SET status = 'failed', error = $2 WHERE id = $1 AND status <> 'sent'`, [id, error]);
}

/**
 * Uses a library link: one statement, so of two clicks at once exactly one gets the address back.
 * Undefined when the link is unknown, used or expired.
 */
export async function useLibraryLink(db: Queryable, tokenHash: Buffer, remoteAddr: string): Promise<string | undefined> {
  const { rows } = await db.query<{ email: string }>(
    `UPDATE library_links SET used_at = now(), used_addr = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING email`,
    [tokenHash, remoteAddr],
  );
  return rows[0]?.email;
}

/** Why a link could not be used, for the page that says so, and whose it is. */
export async function libraryLinkRefusal(db: Queryable, tokenHash: Buffer): Promise<{ reason: 'used' | 'expired' | 'unknown'; email?: string }> {
  const { rows } = await db.query<{ used: boolean; email: string }>('SELECT used_at IS NOT NULL AS used, email FROM library_links WHERE token_hash = $1', [tokenHash]);
  return rows[0] === undefined ? { reason: 'unknown' } : { reason: rows[0].used ? 'used' : 'expired', email: rows[0].email };
}

export interface LibraryInvoiceRow {
  id: number;
  number: string;
  status: string;
  created_at: Date;
  paid_at: Date | null;
  amount: string;
  currency: string;
  package_names: string[];
  keys_expire_at: Date | null;
  generation: number | null;
  salt: Buffer | null;
}

/**
 * Every invoice paid from this address (compared case-insensitively), newest first, with its newest
 * key generation. By the invoice's own payer e-mail only: never through its account or PayPal
 * payer id, which several people's purchases may share.
 */
export async function libraryInvoices(db: Queryable, email: string): Promise<LibraryInvoiceRow[]> {
  const { rows } = await db.query<LibraryInvoiceRow>(
    `SELECT i.id, i.number, i.status, i.created_at, i.paid_at, i.amount::text AS amount, i.currency,
            ARRAY(SELECT p.name FROM invoice_items ii JOIN packages p ON p.id = ii.package_id WHERE ii.invoice_id = i.id ORDER BY p.id) AS package_names,
            i.keys_expire_at, g.generation, g.salt
       FROM invoices i
       LEFT JOIN LATERAL (SELECT generation, salt FROM key_generations WHERE invoice_id = i.id ORDER BY generation DESC LIMIT 1) g ON true
      WHERE lower(i.payer_email) = lower($1)
      ORDER BY i.created_at DESC, i.id DESC LIMIT 200`,
    [email],
  );
  return rows;
}

export interface LibraryKeyRow {
  invoice_id: number;
  package_file_id: number;
  name: string;
  size_bytes: number;
  key_hash: Buffer;
  expires_at: Date;
  expired: boolean;
  revoked_at: Date | null;
  revoked_reason: string | null;
  download_limit: number | null;
  bytes_charged: number;
  self_service: boolean;
  key_ttl_seconds: number | null;
}

/** The keys of the given invoices' newest generations, in each invoice's file order. */
export async function libraryKeys(db: Queryable, generations: { invoiceId: number; generation: number }[]): Promise<LibraryKeyRow[]> {
  if (generations.length === 0) return [];
  const { rows } = await db.query<LibraryKeyRow>(
    `SELECT k.invoice_id, k.package_file_id, f.name, f.size_bytes, k.key_hash, k.expires_at, k.expires_at <= now() AS expired,
            k.revoked_at, k.revoked_reason, k.download_limit, k.bytes_charged, p.self_service, p.key_ttl_seconds
       FROM unnest($1::bigint[], $2::int[]) AS g(invoice_id, generation)
       JOIN download_keys k ON k.invoice_id = g.invoice_id AND k.generation = g.generation
       JOIN package_files f ON f.id = k.package_file_id
       JOIN packages p ON p.id = f.package_id
      ORDER BY k.invoice_id, f.position, f.id`,
    [generations.map((g) => g.invoiceId), generations.map((g) => g.generation)],
  );
  return rows;
}
