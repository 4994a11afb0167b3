// Charging downloads: each transfer is charged before its first byte leaves and settled when it
// ends (the statements are in db/keys.ts; whether a key may download at all, in domain/download-keys.ts).
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
import { chargeBatch, settleBatch, type CommitMode, type KeyRow, type RequestFacts } from '../db/keys';
import { downloadUnit, lossAllowance } from '../domain/download-keys';
import { countDownload } from './metrics';

export interface Charge {
  eventId: number;
  keyId: number;
  charged: number;
  unit: number;
  allowance: number;
  /** download_count before this transfer. */
  countBefore: number;
}

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
 * statement (chargeBatch, which says how it locks and judges); a batch decides exactly what the
 * same requests one by one would. The api's transfers are closed by settleCharges.
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
  const rows = await chargeBatch(pool, columns, commit);
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
  await settleBatch(pool, {
    eventId: settlements.map((s) => s.charge.eventId),
    keyId: settlements.map((s) => s.charge.keyId),
    refund: settlements.map(refund),
    bytesSent: settlements.map((s) => s.bytesSent),
    completed: settlements.map((s) => s.completed),
    countBefore: settlements.map((s) => s.charge.countBefore),
    unit: settlements.map((s) => s.charge.unit),
    allowance: settlements.map((s) => s.charge.allowance),
  });
}
