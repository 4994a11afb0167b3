// The download side of download_keys and download_events: look a key up by its hash, decide
// whether it may download, charge it, and log what happened.
//
// THE COUNTING RULE. Downloads are counted in bytes. A key with a limit of N downloads may send N
// times its file's size, plus an allowance for data lost in flight when a connection breaks (half
// the file, at most 16 MiB). Each transfer is charged the length it is about to send and, if it
// breaks off, given back what never went out; so an interrupted download costs only the bytes
// sent, and resuming it with Range costs only the rest: a buyer on a flaky connection uses one
// download per file however often the connection drops. A request from the first byte is served
// only when the whole of it still fits in what is left; a resume (a Range starting after byte 0)
// is served while anything is left. No choice of ranges or parallel requests therefore yields
// more than N copies plus one resumed transfer. `download_count` shows the downloads used:
// ceil((bytes charged - allowance) / file size). In X-Accel mode nginx sends the bytes and the api
// never learns how many, so the charge for the requested length stands (an interrupted transfer
// costs the whole range it asked for).
import type { Pool } from '../db/pool';
import { countDownload } from './metrics';

export type KeyProblem = 'expired' | 'exhausted' | 'revoked' | 'unpaid';

export interface KeyRow {
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

/** Invoice statuses whose keys may download (the payment cleared and was not taken back). */
const paidStatuses = new Set(['paid', 'fulfilled', 'keys_expired', 'reinstated']);
const revokedStatuses = new Set(['refunded', 'reversed']);

export async function findKey(pool: Pool, keyHash: Buffer): Promise<KeyRow | undefined> {
  const { rows } = await pool.query<KeyRow>({
    name: 'download-find-key',
    text: `SELECT k.id, k.invoice_id, i.number AS invoice_number, i.txn_id, i.status AS invoice_status, i.payer_email,
                  k.expires_at, k.expires_at <= now() AS expired, k.revoked_at, k.revoked_reason,
                  k.download_limit, k.download_count, k.bytes_charged,
                  f.name AS file_name, f.storage_path, f.size_bytes, f.content_type, p.self_service, p.key_ttl_seconds
             FROM download_keys k
             JOIN invoices i ON i.id = k.invoice_id
             JOIN package_files f ON f.id = k.package_file_id
             JOIN packages p ON p.id = f.package_id
            WHERE k.key_hash = $1`,
    values: [keyHash],
  });
  return rows[0];
}

/** The unit a download is counted in: the file's size (an empty file counts requests). */
export function downloadUnit(key: Pick<KeyRow, 'size_bytes'>): number {
  return Math.max(key.size_bytes, 1);
}

/** Bytes a key may be short-changed by broken connections without losing a download. */
export function lossAllowance(key: Pick<KeyRow, 'size_bytes'>): number {
  return Math.min(Math.floor(key.size_bytes / 2), 16 * 1024 * 1024);
}

/** Nothing left at all: not even a resume is served. */
export function isExhausted(key: KeyRow): boolean {
  return key.download_limit !== null && key.bytes_charged >= key.download_limit * downloadUnit(key) + lossAllowance(key);
}

/** Why this key may not download now, or undefined when it may. Revoked wins over everything. */
export function keyProblem(key: KeyRow): KeyProblem | undefined {
  if (key.revoked_at !== null || revokedStatuses.has(key.invoice_status)) return 'revoked';
  if (!paidStatuses.has(key.invoice_status)) return 'unpaid';
  if (key.expired) return 'expired';
  if (isExhausted(key)) return 'exhausted';
  return undefined;
}

export interface RequestFacts {
  remoteAddr: string;
  userAgent: string | undefined;
  rangeHeader: string | undefined;
}

/** Logs a refused request for a known key (unknown keys are only rate-limited, never stored). */
export async function logRefusal(pool: Pool, key: KeyRow, facts: RequestFacts, status: number, refused: string): Promise<void> {
  await pool.query(
    `INSERT INTO download_events (download_key_id, invoice_id, finished_at, remote_addr, user_agent, range_header, status_code, refused)
     VALUES ($1, $2, now(), $3, $4, $5, $6, $7)`,
    [key.id, key.invoice_id, facts.remoteAddr, facts.userAgent ?? null, facts.rangeHeader ?? null, status, refused],
  );
}

export interface Charge {
  eventId: number;
  keyId: number;
  charged: number;
  unit: number;
  allowance: number;
  /** download_count before this transfer. */
  countBefore: number;
}

/**
 * Charges the key `length` bytes and opens the transfer's log entry, in one statement so that
 * parallel requests cannot both slip under the limit. Undefined when the key may not download
 * any more (limit reached, expired or revoked since it was read).
 */
export async function chargeKey(
  pool: Pool,
  key: KeyRow,
  start: number,
  length: number,
  facts: RequestFacts,
  status: number,
  servedBy: 'api' | 'nginx',
): Promise<Charge | undefined> {
  const unit = downloadUnit(key);
  const allowance = lossAllowance(key);
  const charged = key.size_bytes === 0 ? 1 : length;
  const { rows } = await pool.query<{ event_id: number; bytes_charged: number }>({
    name: 'download-charge',
    text: `WITH charged AS (
             UPDATE download_keys
                SET bytes_charged = bytes_charged + $2, download_count = ceil(greatest(bytes_charged + $2 - $9, 0)::numeric / $3)
              WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()
                AND (download_limit IS NULL
                     OR ($10 AND bytes_charged + $2 <= download_limit::bigint * $3 + $9)
                     OR (NOT $10 AND bytes_charged < download_limit::bigint * $3 + $9))
             RETURNING id, invoice_id, bytes_charged)
           -- nginx's transfers are closed here at once: the api hears nothing more of them.
           INSERT INTO download_events (download_key_id, invoice_id, remote_addr, user_agent, range_header, status_code, served_by,
                                        bytes_sent, finished_at, counted)
           SELECT id, invoice_id, $4, $5, $6, $7, $8,
                  CASE WHEN $8 = 'nginx' THEN $2 ELSE 0 END,
                  CASE WHEN $8 = 'nginx' THEN now() END,
                  $8 = 'nginx' AND ceil(greatest(bytes_charged - $9, 0)::numeric / $3) > ceil(greatest(bytes_charged - $2 - $9, 0)::numeric / $3)
             FROM charged
           RETURNING id AS event_id, (SELECT bytes_charged FROM charged) AS bytes_charged`,
    values: [key.id, charged, unit, facts.remoteAddr, facts.userAgent ?? null, facts.rangeHeader ?? null, status, servedBy, allowance, start === 0],
  });
  const row = rows[0];
  if (!row) return undefined;
  const countBefore = Math.ceil(Math.max(row.bytes_charged - charged - allowance, 0) / unit);
  return { eventId: row.event_id, keyId: key.id, charged, unit, allowance, countBefore };
}

/** Closes a transfer: gives back what was charged and not sent, and logs the outcome. */
export async function settleCharge(pool: Pool, charge: Charge, bytesSent: number, completed: boolean): Promise<void> {
  countDownload(bytesSent, completed);
  const refund = completed ? 0 : Math.max(0, charge.charged - bytesSent);
  await pool.query({
    name: 'download-settle',
    text: `WITH refunded AS (
             UPDATE download_keys
                SET bytes_charged = greatest(bytes_charged - $2, 0), download_count = ceil(greatest(bytes_charged - $2 - $8, 0)::numeric / $3)
              WHERE id = $1
             RETURNING download_count)
           UPDATE download_events
              SET finished_at = now(), bytes_sent = $5, completed = $6, counted = (SELECT download_count FROM refunded) > $7
            WHERE id = $4`,
    values: [charge.keyId, refund, charge.unit, charge.eventId, bytesSent, completed, charge.countBefore, charge.allowance],
  });
}
