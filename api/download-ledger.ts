// The download route's Postgres traffic, batched: concurrent requests share one key look-up query,
// one charge-and-log statement (one commit) and one settle statement (see batch-queue.ts). Each
// batch decides exactly what its requests one at a time would (download-usage.ts), so the rules
// and THE COUNTING RULE are unchanged; only the number of round trips and commits falls.
import type { Pool } from '../db/pool';
import { createBatchQueue } from './batch-queue';
import { findKeys, type CommitMode, type KeyRow } from '../db/keys';
import { chargeKeys, settleCharges, type Charge, type ChargeRequest, type Settlement } from './download-usage';

export interface DownloadLedger {
  /**
   * The key's row. `recent` may answer from a copy up to `keyCacheMs` old: only for a request that
   * goes on to be charged, because the charge itself checks the rules again under the key's lock.
   */
  find(keyHash: Buffer, freshness?: 'fresh' | 'recent'): Promise<KeyRow | undefined>;
  /** Undefined when the key may not download (any more). */
  charge(request: ChargeRequest): Promise<Charge | undefined>;
  /** Records a transfer's outcome; never rejects (a failure is logged, and the charge stands). */
  settle(settlement: Settlement): Promise<void>;
  /** Resolves once every settlement handed in so far is written (tests, shutdown). */
  flush(): Promise<void>;
}

export interface LedgerOptions {
  /** Batches of each kind running at once; each holds a pooled connection while it runs. */
  maxInFlight?: number;
  maxItems?: number;
  /** How a charge commits (see CommitMode); settlements always commit asynchronously. */
  chargeCommit?: CommitMode;
  /**
   * How long a key's row may be reused for requests that will be charged (0: never). What can be
   * stale is only what the charge does not check again: the file's name, type, size and storage
   * path, which change when an operator replaces a package's file.
   */
  keyCacheMs?: number;
  /** Rows kept at most; the oldest go first. */
  keyCacheSize?: number;
  /** Milliseconds settlements gather before they are written together. */
  settleGatherMs?: number;
  now?: () => number;
}

/** Postgres gave up on a statement that may simply be run again. */
const transient = (error: unknown) => ['40P01', '40001'].includes((error as { code?: string }).code ?? '');

export function createDownloadLedger(pool: Pool, options: LedgerOptions = {}): DownloadLedger {
  const sizes = { maxInFlight: options.maxInFlight ?? 2, maxItems: options.maxItems ?? 64 };
  const chargeCommit = options.chargeCommit ?? 'durable';
  const keyCacheMs = options.keyCacheMs ?? 5_000;
  const keyCacheSize = options.keyCacheSize ?? 10_000;
  const now = options.now ?? Date.now;
  const recent = new Map<string, { row: KeyRow; at: number }>();
  const lookup = createBatchQueue((hashes: Buffer[]) => findKeys(pool, hashes), sizes);
  const find = async (keyHash: Buffer, freshness: 'fresh' | 'recent' = 'fresh') => {
    const id = keyHash.toString('latin1');
    if (freshness === 'recent' && keyCacheMs > 0) {
      const hit = recent.get(id);
      if (hit && now() - hit.at < keyCacheMs) return hit.row;
    }
    const row = await lookup(keyHash);
    recent.delete(id);
    if (row && keyCacheMs > 0) {
      if (recent.size >= keyCacheSize) recent.delete(recent.keys().next().value!);
      recent.set(id, { row, at: now() });
    }
    return row;
  };
  const charge = createBatchQueue(async (requests: ChargeRequest[]) => {
    // A deadlock with another writer of download_keys (an operator's bulk extension, say) undoes
    // the whole statement, so nothing was charged: run it again once.
    try {
      return await chargeKeys(pool, requests, chargeCommit);
    } catch (error) {
      if (!transient(error)) throw error;
      return chargeKeys(pool, requests, chargeCommit);
    }
  }, sizes);
  // Nobody waits for a settlement: gather them for a few milliseconds into fewer statements.
  const settle = createBatchQueue(
    async (settlements: Settlement[]) => {
      await settleCharges(pool, settlements);
      return settlements.map(() => undefined);
    },
    { ...sizes, maxItems: 512, gatherMs: options.settleGatherMs ?? 5 },
  );

  return {
    find,
    async charge(request) {
      for (;;) {
        const outcome = await charge(request);
        if (outcome !== 'retry') return outcome === 'refused' ? undefined : outcome;
      }
    },
    settle: (settlement) =>
      settle(settlement).catch((error: unknown) =>
        console.error(`download event ${settlement.charge.eventId}: could not record the outcome (${(error as Error).message}); its charge stands.`),
      ),
    flush: () => settle.drained(),
  };
}
