// The SQL of download keys, their generations and their download events: issuing and revoking keys
// (the worker), looking a key up, charging and settling downloads (the download route), and what
// the thank-you page and the admin read. The rules these statements apply are explained in
// domain/download-keys.ts (what may download) and api/download-usage.ts (THE COUNTING RULE).
import type { Queryable } from './pool';
import type { KeyFacts } from '../domain/download-keys';
import { liveStatuses } from '../domain/invoice-status';

export interface KeyRow extends KeyFacts {
  id: number;
  invoice_id: number;
  invoice_number: string;
  txn_id: string;
  invoice_status: string;
  payer_email: string;
  expires_at: Date;
  expired: boolean;
  revoked_at: Date | null;
  revoked_reason: string | null;
  download_limit: number | null;
  download_count: number;
  bytes_charged: number;
  file_name: string;
  storage_path: string;
  size_bytes: number;
  content_type: string;
  self_service: boolean;
  key_ttl_seconds: number | null;
}

const keyColumns = `k.id, k.invoice_id, i.number AS invoice_number, i.txn_id, i.status AS invoice_status, i.payer_email,
                  k.expires_at, k.expires_at <= now() AS expired, k.revoked_at, k.revoked_reason,
                  k.download_limit, k.download_count, k.bytes_charged,
                  f.name AS file_name, f.storage_path, f.size_bytes, f.content_type, p.self_service, p.key_ttl_seconds
             FROM download_keys k
             JOIN invoices i ON i.id = k.invoice_id
             JOIN package_files f ON f.id = k.package_file_id
             JOIN packages p ON p.id = f.package_id`;

export async function findKey(db: Queryable, keyHash: Buffer): Promise<KeyRow | undefined> {
  const { rows } = await db.query<KeyRow>({ name: 'download-find-key', text: `SELECT ${keyColumns} WHERE k.key_hash = $1`, values: [keyHash] });
  return rows[0];
}

/** Several keys in one query (see api/download-ledger.ts); one answer per hash, in order. */
export async function findKeys(db: Queryable, keyHashes: Buffer[]): Promise<(KeyRow | undefined)[]> {
  const { rows } = await db.query<KeyRow & { key_hash: Buffer }>({
    name: 'download-find-keys',
    text: `SELECT k.key_hash, ${keyColumns} WHERE k.key_hash = ANY($1::bytea[])`,
    values: [keyHashes],
  });
  const byHash = new Map<string, KeyRow>();
  for (const { key_hash, ...row } of rows) byHash.set(key_hash.toString('latin1'), row);
  return keyHashes.map((hash) => byHash.get(hash.toString('latin1')));
}

export interface RequestFacts {
  remoteAddr: string;
  userAgent: string | undefined;
  rangeHeader: string | undefined;
}

/** Logs a refused request for a known key (unknown keys are only rate-limited, never stored). */
export async function logRefusal(db: Queryable, key: Pick<KeyRow, 'id' | 'invoice_id'>, facts: RequestFacts, status: number, refused: string): Promise<void> {
  await db.query(
    `INSERT INTO download_events (download_key_id, invoice_id, finished_at, remote_addr, user_agent, range_header, status_code, refused)
     VALUES ($1, $2, now(), $3, $4, $5, $6, $7)`,
    [key.id, key.invoice_id, facts.remoteAddr, facts.userAgent ?? null, facts.rangeHeader ?? null, status, refused],
  );
}

/**
 * `durable`: the statement returns once its commit is on disk. `async`: once it is committed and
 * visible to every other transaction, while the WAL writer puts it on disk within
 * 3 × wal_writer_delay (0.6 s by default); only a crash of Postgres itself (or of the machine) in
 * that window loses it. An api crash loses nothing either way.
 */
export type CommitMode = 'durable' | 'async';

/** Turns synchronous_commit off for this statement's own transaction only (is_local), without an extra round trip. */
const asyncCommit = `commit_mode AS (SELECT set_config('synchronous_commit', 'off', true)),`;

/** A batch of download requests to charge, one array per column, in request order. */
export interface ChargeColumns {
  keyId: number[];
  /** Bytes about to be sent (1 for an empty file). */
  charged: number[];
  /** The key's download unit and loss allowance (api/download-usage.ts). */
  unit: number[];
  allowance: number[];
  /** The request starts at the first byte. */
  fromStart: boolean[];
  remoteAddr: string[];
  userAgent: (string | null)[];
  rangeHeader: (string | null)[];
  status: number[];
  servedBy: string[];
}

/** One row per request: ord counts from 1; event_id null when not admitted; retry when an earlier request for its key was refused. */
export interface ChargeRow {
  ord: number;
  event_id: number | null;
  before: number | null;
  retry: boolean;
}

/**
 * Charges each request the bytes it is about to send and opens its log entry, all in one
 * statement: the keys are locked in id order (so concurrent batches cannot deadlock each other),
 * every request is judged against its key's charge plus everything asked before it in the batch,
 * and the key's rules (paid invoice, inside its window, not revoked, under its limit) are read
 * under that lock, so parallel requests cannot both slip under the limit. A request whose key had
 * an earlier refusal in the batch is not judged here (`retry`), which makes a batch decide exactly
 * what the same requests one by one would. nginx's transfers are closed at once (the api hears
 * nothing more of them); the api's are closed by settleBatch.
 */
export async function chargeBatch(db: Queryable, columns: ChargeColumns, commit: CommitMode = 'durable'): Promise<ChargeRow[]> {
  const { rows } = await db.query<ChargeRow>({
    name: `download-charge-batch-${commit}`,
    text: `WITH ${commit === 'async' ? asyncCommit : ''} req AS (
             SELECT r.* FROM ${commit === 'async' ? 'commit_mode, ' : ''}unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[],
                                  $6::text[], $7::text[], $8::text[], $9::integer[], $10::text[])
                    WITH ORDINALITY AS r(key_id, charged, unit, allowance, from_start,
                                         remote_addr, user_agent, range_header, status_code, served_by, ord)),
           locked AS (
             SELECT k.id, k.invoice_id, k.bytes_charged, k.download_limit
               FROM download_keys k
              WHERE k.id IN (SELECT key_id FROM req) AND k.revoked_at IS NULL AND k.expires_at > now()
                AND EXISTS (SELECT 1 FROM invoices i WHERE i.id = k.invoice_id AND i.status = ANY($11::text[]))
              ORDER BY k.id
                FOR UPDATE OF k),
           judged AS (
             SELECT q.*, q.download_limit IS NULL
                         OR (q.from_start AND q.before + q.charged <= q.download_limit::bigint * q.unit + q.allowance)
                         OR (NOT q.from_start AND q.before < q.download_limit::bigint * q.unit + q.allowance) AS fits
               FROM (SELECT r.*, l.invoice_id, l.download_limit,
                            l.bytes_charged + coalesce(sum(r.charged) OVER (PARTITION BY r.key_id ORDER BY r.ord
                                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
                       FROM req r JOIN locked l ON l.id = r.key_id) q),
           admitted AS (
             SELECT j.*, nextval(pg_get_serial_sequence('download_events', 'id')) AS event_id
               FROM judged j
              WHERE j.fits AND NOT EXISTS (SELECT 1 FROM judged e WHERE e.key_id = j.key_id AND e.ord < j.ord AND NOT e.fits)),
           charged AS (
             UPDATE download_keys k
                SET bytes_charged = k.bytes_charged + t.total,
                    download_count = ceil(greatest(k.bytes_charged + t.total - t.allowance, 0)::numeric / t.unit)
               FROM (SELECT key_id, sum(charged)::bigint AS total, min(unit) AS unit, min(allowance) AS allowance
                       FROM admitted GROUP BY key_id) t
              WHERE k.id = t.key_id),
           logged AS (
             INSERT INTO download_events (id, download_key_id, invoice_id, remote_addr, user_agent, range_header, status_code,
                                          served_by, bytes_sent, finished_at, counted)
             SELECT event_id, key_id, invoice_id, remote_addr, user_agent, range_header, status_code, served_by,
                    CASE WHEN served_by = 'nginx' THEN charged ELSE 0 END,
                    CASE WHEN served_by = 'nginx' THEN now() END,
                    served_by = 'nginx'
                      AND ceil(greatest(before + charged - allowance, 0)::numeric / unit) > ceil(greatest(before - allowance, 0)::numeric / unit)
               FROM admitted)
           SELECT r.ord, a.event_id, a.before,
                  a.event_id IS NULL AND EXISTS (SELECT 1 FROM judged e WHERE e.key_id = r.key_id AND e.ord < r.ord AND NOT e.fits) AS retry
             FROM req r LEFT JOIN admitted a ON a.ord = r.ord`,
    values: [
      columns.keyId,
      columns.charged,
      columns.unit,
      columns.allowance,
      columns.fromStart,
      columns.remoteAddr,
      columns.userAgent,
      columns.rangeHeader,
      columns.status,
      columns.servedBy,
      [...liveStatuses],
    ],
  });
  return rows;
}

/** A batch of transfers to close, one array per column. */
export interface SettleColumns {
  eventId: number[];
  keyId: number[];
  /** Bytes charged and never sent, given back to the key. */
  refund: number[];
  bytesSent: number[];
  completed: boolean[];
  /** download_count before the transfer, and the key's unit and allowance, as charged. */
  countBefore: number[];
  unit: number[];
  allowance: number[];
}

/**
 * Closes transfers: gives each key back what was charged and not sent, and logs each outcome, in
 * one statement committed asynchronously. Keys that get something back are locked in id order
 * first, like chargeBatch does.
 */
export async function settleBatch(db: Queryable, columns: SettleColumns): Promise<void> {
  await db.query({
    name: 'download-settle-batch',
    text: `WITH ${asyncCommit} s AS (
             SELECT s.* FROM commit_mode, unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[], $6::integer[], $7::bigint[], $8::bigint[])
                    AS s(event_id, key_id, refund, bytes_sent, completed, count_before, unit, allowance)),
           locked AS (
             SELECT k.id FROM download_keys k WHERE k.id IN (SELECT key_id FROM s WHERE refund > 0) ORDER BY k.id FOR UPDATE),
           refunded AS (
             UPDATE download_keys k
                SET bytes_charged = greatest(k.bytes_charged - t.refund, 0),
                    download_count = ceil(greatest(k.bytes_charged - t.refund - t.allowance, 0)::numeric / t.unit)
               FROM (SELECT key_id, sum(refund)::bigint AS refund, min(unit) AS unit, min(allowance) AS allowance
                       FROM s WHERE refund > 0 GROUP BY key_id) t
               JOIN locked l ON l.id = t.key_id
              WHERE k.id = t.key_id
             RETURNING k.id, k.download_count)
           UPDATE download_events e
              SET finished_at = now(), bytes_sent = s.bytes_sent, completed = s.completed,
                  counted = coalesce(r.download_count, k.download_count) > s.count_before
             FROM s JOIN download_keys k ON k.id = s.key_id LEFT JOIN refunded r ON r.id = s.key_id
            WHERE e.id = s.event_id`,
    values: [columns.eventId, columns.keyId, columns.refund, columns.bytesSent, columns.completed, columns.countBefore, columns.unit, columns.allowance],
  });
}

// Issuing keys (the worker, inside the keys' transaction).

/** The salt of an invoice's key generation: this one when the generation is new, else the one stored. */
export async function generationSalt(db: Queryable, invoiceId: number, generation: number, salt: Buffer, purpose: 'delivery' | 'regenerate'): Promise<Buffer> {
  const { rows } = await db.query<{ salt: Buffer }>(
    `WITH created AS (
       INSERT INTO key_generations (invoice_id, generation, salt, purpose) VALUES ($1, $2, $3, $4)
       ON CONFLICT (invoice_id, generation) DO NOTHING
       RETURNING salt
     )
     SELECT salt FROM created UNION ALL SELECT salt FROM key_generations WHERE invoice_id = $1 AND generation = $2`,
    [invoiceId, generation, salt, purpose],
  );
  return rows[0]!.salt;
}

export interface IssuedKey {
  packageFileId: number;
  keyHash: Buffer;
  downloadLimit: number | null;
}

/**
 * The keys (one row per file), the older generations revoked and the invoice's expiry: one
 * statement. Its parts touch different rows (this generation's keys, older ones', the invoice).
 */
export async function storeKeys(db: Queryable, input: { invoiceId: number; generation: number; expiresAt: string; keys: IssuedKey[] }): Promise<void> {
  await db.query(
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
    [
      input.invoiceId,
      input.generation,
      input.expiresAt,
      input.keys.map((k) => k.packageFileId),
      input.keys.map((k) => k.keyHash),
      input.keys.map((k) => k.downloadLimit),
    ],
  );
}

// Reads for the thank-you page and the admin.

export interface GenerationKeyRow {
  package_file_id: number;
  name: string;
  size_bytes: number;
  md5: string;
  sha256: string;
  key_hash: Buffer;
  download_limit: number | null;
  expired: boolean;
  revoked: boolean;
}

/** The keys of one generation of an invoice, with their files, in the files' order. */
export async function generationKeys(db: Queryable, invoiceId: number, generation: number): Promise<GenerationKeyRow[]> {
  const { rows } = await db.query<GenerationKeyRow>(
    `SELECT k.package_file_id, f.name, f.size_bytes, f.md5, f.sha256, k.key_hash, k.download_limit,
            k.expires_at <= now() AS expired, k.revoked_at IS NOT NULL AS revoked
       FROM download_keys k JOIN package_files f ON f.id = k.package_file_id
      WHERE k.invoice_id = $1 AND k.generation = $2
      ORDER BY f.position, f.id`,
    [invoiceId, generation],
  );
  return rows;
}

export interface InvoiceKeyRow {
  id: number;
  file: string;
  generation: number;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  downloadCount: number;
  downloadLimit: number | null;
  createdAt: Date;
}

/** Every key of an invoice, newest generation first. */
export async function invoiceKeys(db: Queryable, invoiceId: number): Promise<InvoiceKeyRow[]> {
  const { rows } = await db.query<InvoiceKeyRow>(
    `SELECT k.id, f.name AS file, k.generation, k.expires_at AS "expiresAt", k.revoked_at AS "revokedAt", k.revoked_reason AS "revokedReason",
            k.download_count AS "downloadCount", k.download_limit AS "downloadLimit", k.created_at AS "createdAt"
       FROM download_keys k JOIN package_files f ON f.id = k.package_file_id WHERE k.invoice_id = $1 ORDER BY k.generation DESC, f.position, f.id`,
    [invoiceId],
  );
  return rows;
}

export interface KeyGenerationRow {
  generation: number;
  purpose: string;
  createdAt: Date;
}

export async function keyGenerations(db: Queryable, invoiceId: number): Promise<KeyGenerationRow[]> {
  const { rows } = await db.query<KeyGenerationRow>(`SELECT generation, purpose, created_at AS "createdAt" FROM key_generations WHERE invoice_id = $1 ORDER BY generation`, [invoiceId]);
  return rows;
}

export interface DownloadEventRow {
  id: number;
  file: string | null;
  startedAt: Date;
  remoteAddr: string | null;
  userAgent: string | null;
  range: string | null;
  statusCode: number | null;
  bytesSent: string;
  completed: boolean;
  refused: string | null;
}

/** An invoice's newest 200 download requests. */
export async function invoiceDownloads(db: Queryable, invoiceId: number): Promise<DownloadEventRow[]> {
  const { rows } = await db.query<DownloadEventRow>(
    `SELECT e.id, f.name AS file, e.started_at AS "startedAt", e.remote_addr AS "remoteAddr", e.user_agent AS "userAgent", e.range_header AS range,
            e.status_code AS "statusCode", e.bytes_sent::text AS "bytesSent", e.completed, e.refused
       FROM download_events e LEFT JOIN download_keys k ON k.id = e.download_key_id LEFT JOIN package_files f ON f.id = k.package_file_id
      WHERE e.invoice_id = $1 ORDER BY e.started_at DESC, e.id DESC LIMIT 200`,
    [invoiceId],
  );
  return rows;
}
