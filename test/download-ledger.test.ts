// The download ledger (api/download-ledger.ts, SQL in api/download-usage.ts) against a real
// Postgres: concurrent charges share one statement and decide what one-by-one charges would (THE
// COUNTING RULE), settlements are written together, a transfer never settled keeps its charge
// (the api died between charge and settle), and the cached key row never lets a request past a
// rule, because the charge checks the rules again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from '../db/pool';
import { keyHash, keyProblem, type KeyProblem } from '../domain/download-keys';
import { createDownloadLedger, type DownloadLedger } from '../api/download-ledger';
import type { KeyRow } from '../db/keys';
import type { ChargeRequest } from '../api/download-usage';
import { createPool } from '../db/pool';
import { freshDatabase, type TestDatabase } from './harness';
import { insertPurchase, type PurchaseOptions } from './fixtures/downloads';

interface EventRow {
  bytes_sent: number;
  completed: boolean;
  counted: boolean;
  finished_at: Date | null;
  served_by: string;
  range_header: string | null;
}

describe('download ledger', () => {
  let db: TestDatabase;
  let filesDir: string;
  /** The real pool, with every statement's name noted: batching shows as fewer statements. */
  let statements: string[];
  let pool: Pool;

  before(async () => {
    db = await freshDatabase();
    filesDir = await mkdtemp(path.join(os.tmpdir(), 'keyship-ledger-'));
    statements = [];
    pool = {
      query: (config: { name?: string; text: string }, values?: unknown[]) => {
        statements.push(config.name ?? config.text);
        return db.pool.query(config, values);
      },
    } as unknown as Pool;
  });
  after(async () => {
    await db.close();
    await rm(filesDir, { recursive: true, force: true });
  });

  const purchase = async (options: PurchaseOptions = {}) => {
    const content = Buffer.alloc(10_000, 7);
    const file = (await insertPurchase(db.pool, filesDir, { files: [{ name: 'a.bin', content }], ...options })).files[0]!;
    return { ...file, hash: keyHash(file.key) };
  };
  const keyState = async (keyId: number) =>
    (await db.pool.query<{ bytes_charged: number; download_count: number }>('SELECT bytes_charged, download_count FROM download_keys WHERE id = $1', [keyId])).rows[0]!;
  const events = async (keyId: number) =>
    (await db.pool.query<EventRow>('SELECT bytes_sent, completed, counted, finished_at, served_by, range_header FROM download_events WHERE download_key_id = $1 ORDER BY id', [keyId])).rows;
  const request = (key: KeyRow, start = 0, length = key.size_bytes - start): ChargeRequest => ({
    key,
    start,
    length,
    facts: { remoteAddr: '127.0.0.1', userAgent: 'ledger-test', rangeHeader: start ? `bytes=${start}-` : undefined },
    status: start ? 206 : 200,
    servedBy: 'api',
  });
  const named = (name: string) => statements.filter((s) => s.startsWith(name)).length;

  test('requests in one turn share one look-up and one charge statement; one key in a batch is judged in order', async () => {
    const limited = await purchase({ downloadLimit: 1 });
    const others = await Promise.all([purchase(), purchase(), purchase()]);
    const ledger = createDownloadLedger(pool);
    const before = { find: named('download-find-keys'), charge: named('download-charge-batch') };
    const rows = await Promise.all([limited, ...others].map((f) => ledger.find(f.hash)));
    assert.equal(named('download-find-keys') - before.find, 1, 'four look-ups, one query');
    const key = rows[0]!;
    // Limit 1, 10,000 bytes, loss allowance 5,000: the first full copy fits; a second full copy
    // does not; a resume is served while anything is left. One by one that is: yes, no, yes.
    const outcomes = await Promise.all([
      ledger.charge(request(key)),
      ledger.charge(request(key)),
      ledger.charge(request(key, 6_000)),
      ...rows.slice(1).map((row) => ledger.charge(request(row!))),
    ]);
    assert.deepEqual(
      outcomes.map((o) => (o ? 'charged' : 'refused')),
      ['charged', 'refused', 'charged', 'charged', 'charged', 'charged'],
    );
    // The refusal stopped the batch for that key only: its resume went again in a second statement.
    assert.equal(named('download-charge-batch') - before.charge, 2);
    assert.deepEqual(await keyState(limited.keyId), { bytes_charged: 14_000, download_count: 1 });
    const opened = await events(limited.keyId);
    assert.equal(opened.length, 2, 'a refused charge opens no transfer');
    assert.ok(opened.every((e) => e.finished_at === null && !e.completed));
  });

  test('settlements are written together a few milliseconds later; interrupted ones give back what was not sent', async () => {
    const a = await purchase();
    const b = await purchase();
    const ledger = createDownloadLedger(pool);
    const [rowA, rowB] = await Promise.all([ledger.find(a.hash), ledger.find(b.hash)]);
    const charges = await Promise.all([ledger.charge(request(rowA!)), ledger.charge(request(rowA!)), ledger.charge(request(rowB!))]);
    const [full, broken, other] = charges.map((c) => c!);
    const before = named('download-settle-batch');
    await Promise.all([
      ledger.settle({ charge: full!, bytesSent: 10_000, completed: true }),
      ledger.settle({ charge: broken!, bytesSent: 2_500, completed: false }),
      ledger.settle({ charge: other!, bytesSent: 10_000, completed: true }),
    ]);
    await ledger.flush();
    assert.equal(named('download-settle-batch') - before, 1, 'three settlements, one statement');
    // 10,000 + 2,500 bytes sent, less the 5,000 loss allowance: one download used.
    assert.deepEqual(await keyState(a.keyId), { bytes_charged: 12_500, download_count: 1 });
    const logged = await events(a.keyId);
    assert.deepEqual(
      logged.map((e) => [e.bytes_sent, e.completed, e.finished_at !== null]),
      [
        [10_000, true, true],
        [2_500, false, true],
      ],
    );
    assert.deepEqual(await keyState(b.keyId), { bytes_charged: 10_000, download_count: 1 });
    // Settlements commit asynchronously without leaving that setting on the pooled session.
    const single = createPool(db.url, { max: 1 });
    try {
      // (The test cluster runs with it off for speed; this session asks for it on.)
      await single.query('SET synchronous_commit = on');
      const alone = createDownloadLedger(single);
      const charge = await alone.charge(request((await alone.find(b.hash))!));
      await alone.settle({ charge: charge!, bytesSent: 10_000, completed: true });
      assert.equal((await events(b.keyId)).at(-1)?.finished_at !== null, true, 'the settlement was written');
      assert.equal((await single.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]!.synchronous_commit, 'on');
    } finally {
      await single.end();
    }
  });

  test('a transfer never settled (the api died) keeps its whole charge and an open log entry: the safe side', async () => {
    const file = await purchase({ downloadLimit: 1 });
    const dying = createDownloadLedger(pool);
    const charge = await dying.charge(request((await dying.find(file.hash))!));
    assert.ok(charge);
    // No settle: the process is gone. A new process finds the charge standing.
    const restarted = createDownloadLedger(pool);
    assert.deepEqual(await keyState(file.keyId), { bytes_charged: 10_000, download_count: 1 });
    const [open] = await events(file.keyId);
    assert.deepEqual([open!.finished_at, open!.completed, open!.bytes_sent], [null, false, 0]);
    const key = (await restarted.find(file.hash))!;
    assert.equal(await restarted.charge(request(key)), undefined, 'a second full copy is refused');
    const resume = await restarted.charge(request(key, 4_000));
    assert.ok(resume, 'resuming the broken transfer is still served from the loss allowance');
  });

  test('a cached key row lets nothing past a rule: the charge checks revocation, expiry, payment and the limit itself', async () => {
    const ledger = createDownloadLedger(pool, { keyCacheMs: 60_000 });
    const cases: [string, string, unknown[], KeyProblem][] = [
      ['revoked', 'UPDATE download_keys SET revoked_at = now(), revoked_reason = $2 WHERE id = $1', ['regenerated'], 'revoked'],
      ['expired', "UPDATE download_keys SET expires_at = now() - interval '1 minute' WHERE id = $1", [], 'expired'],
      ['refunded', "UPDATE invoices SET status = 'refunded' WHERE id = (SELECT invoice_id FROM download_keys WHERE id = $1)", [], 'revoked'],
      ['unpaid', "UPDATE invoices SET status = 'needs_review' WHERE id = (SELECT invoice_id FROM download_keys WHERE id = $1)", [], 'unpaid'],
      ['used up', 'UPDATE download_keys SET bytes_charged = 15000 WHERE id = $1', [], 'exhausted'],
    ];
    for (const [what, sql, extra, problem] of cases) {
      const file = await purchase({ downloadLimit: 1 });
      const cached = (await ledger.find(file.hash, 'recent'))!;
      await db.pool.query(sql, [file.keyId, ...extra]);
      assert.equal(await ledger.find(file.hash, 'recent'), cached, `${what}: the copy is reused`);
      assert.equal(await ledger.charge(request(cached)), undefined, `${what}: refused all the same`);
      assert.equal(keyProblem((await ledger.find(file.hash, 'fresh'))!), problem, `${what}: a fresh look says why`);
    }
  });

  test('async charge commits charge and log the same way', async () => {
    const file = await purchase({ downloadLimit: 2 });
    const ledger: DownloadLedger = createDownloadLedger(pool, { chargeCommit: 'async' });
    const key = (await ledger.find(file.hash))!;
    const charge = await ledger.charge(request(key));
    assert.ok(charge);
    await ledger.settle({ charge, bytesSent: 10_000, completed: true });
    await ledger.flush();
    assert.deepEqual(await keyState(file.keyId), { bytes_charged: 10_000, download_count: 1 });
    const [event] = await events(file.keyId);
    assert.deepEqual([event!.bytes_sent, event!.completed, event!.counted], [10_000, true, true]);
  });
});
