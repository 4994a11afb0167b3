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
import { downloadUnit, lossAllowance, type KeyFacts } from '../domain/download-keys';
import { downloadableStatuses } from '../domain/invoice-status';
import { countDownload } from './metrics';

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

export async function findKey(pool: Pool, keyHash: Buffer): Promise<KeyRow | undefined> {
  const { rows } = await pool.query<KeyRow>({ name: 'download-find-key', text: `SELECT ${keyColumns} WHERE k.key_hash = $1`, values: [keyHash] });
  return rows[0];
}

/** Several keys in one query (see download-ledger.ts); one answer per hash, in order. */
export async function findKeys(pool: Pool, keyHashes: Buffer[]): Promise<(KeyRow | undefined)[]> {
  const { rows } = await pool.query<KeyRow & { key_hash: Buffer }>({
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
 * `durable`: the statement returns once its commit is on disk. `async`: once it is committed and
 * visible to every other transaction, while the WAL writer puts it on disk within
 * 3 × wal_writer_delay (0.6 s by default); only a crash of Postgres itself (or of the machine) in
 * that window loses it. An api crash loses nothing either way.
 */
export type CommitMode = 'durable' | 'async';

/** Turns synchronous_commit off for this statement's own transaction only (is_local), without an extra round trip. */
const asyncCommit = `commit_mode AS (SELECT set_config('synchronous_commit', 'off', true)),`;

export interface ChargeRequest {
  key: Pick<KeyRow, 'id' | 'size_bytes'>;
  /** First byte and length of what is about to be sent. */
  start: number;
  length: number;
  facts: RequestFacts;
  status: number;
  servedBy: 'api' | 'nginx';
}

/**
 * `refused`: the key may not download (any more): limit reached, expired, revoked or no longer paid.
 * `retry`: an earlier request for the same key in the same batch was refused, so this one was not
 * judged; it goes again in the next batch.
 */
export type ChargeOutcome = Charge | 'refused' | 'retry';

/**
 * Charges each request the bytes it is about to send and opens its log entry, all in one
 * statement: the keys are locked in id order (so concurrent batches cannot deadlock each other),
 * every request is judged against its key's charge plus everything asked before it in the batch,
 * and the key's rules (paid invoice, inside its window, not revoked, under its limit) are read
 * under that lock, so parallel requests cannot both slip under the limit. A request whose key had
 * an earlier refusal in the batch is not judged here (`retry`), which makes a batch decide exactly
 * what the same requests one by one would. nginx's transfers are closed at once (the api hears
 * nothing more of them); the api's are closed by settleCharges.
 */
export async function chargeKeys(pool: Pool, requests: ChargeRequest[], commit: CommitMode = 'durable'): Promise<ChargeOutcome[]> {
  const columns = {
    keyId: [] as number[],
    charged: [] as number[],
    unit: [] as number[],
    allowance: [] as number[],
    fromStart: [] as boolean[],
    remoteAddr: [] as string[],
    userAgent: [] as (string | null)[],
    rangeHeader: [] as (string | null)[],
    status: [] as number[],
    servedBy: [] as string[],
  };
  for (const r of requests) {
    columns.keyId.push(r.key.id);
    columns.charged.push(r.key.size_bytes === 0 ? 1 : r.length);
    columns.unit.push(downloadUnit(r.key));
    columns.allowance.push(lossAllowance(r.key));
    columns.fromStart.push(r.start === 0);
    columns.remoteAddr.push(r.facts.remoteAddr);
    columns.userAgent.push(r.facts.userAgent ?? null);
    columns.rangeHeader.push(r.facts.rangeHeader ?? null);
    columns.status.push(r.status);
    columns.servedBy.push(r.servedBy);
  }
  const { rows } = await pool.query<{ ord: number; event_id: number | null; before: number | null; retry: boolean }>({
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
      downloadableStatuses,
    ],
  });
  const outcomes: ChargeOutcome[] = requests.map(() => 'refused');
  for (const row of rows) {
    const i = Number(row.ord) - 1;
    if (row.retry) outcomes[i] = 'retry';
    else if (row.event_id !== null && row.before !== null) {
      const unit = columns.unit[i]!;
      const allowance = columns.allowance[i]!;
      const countBefore = Math.ceil(Math.max(Number(row.before) - allowance, 0) / unit);
      outcomes[i] = { eventId: Number(row.event_id), keyId: columns.keyId[i]!, charged: columns.charged[i]!, unit, allowance, countBefore };
    }
  }
  return outcomes;
}

export interface Settlement {
  charge: Charge;
  bytesSent: number;
  completed: boolean;
}

/**
 * Closes transfers: gives each key back what was charged and not sent, and logs each outcome, in
 * one statement. Keys that get something back are locked in id order first, like chargeKeys does.
 * A transfer never settled (the api died first) keeps its whole charge and an event without
 * finished_at: the safe side, costing the buyer at most that one range.
 */
export async function settleCharges(pool: Pool, settlements: Settlement[]): Promise<void> {
  for (const s of settlements) countDownload(s.bytesSent, s.completed);
  const refund = (s: Settlement) => (s.completed ? 0 : Math.max(0, s.charge.charged - s.bytesSent));
  await pool.query({
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
    values: [
      settlements.map((s) => s.charge.eventId),
      settlements.map((s) => s.charge.keyId),
      settlements.map(refund),
      settlements.map((s) => s.bytesSent),
      settlements.map((s) => s.completed),
      settlements.map((s) => s.charge.countBefore),
      settlements.map((s) => s.charge.unit),
      settlements.map((s) => s.charge.allowance),
    ],
  });
}
