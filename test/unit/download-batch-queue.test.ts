// The batch queue behind the download ledger (api/batch-queue.ts): concurrent calls share a batch,
// no more batches run at once than allowed, a batch never exceeds its size, gatherMs waits for
// company, and a failed batch rejects exactly its own items. No servers needed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBatchQueue } from '../../api/batch-queue';

const tick = () => new Promise((r) => setImmediate(r));

describe('batch queue', () => {
  test('calls made in one turn of the event loop go in one batch, with results in order', async () => {
    const batches: number[][] = [];
    const double = createBatchQueue(
      async (items: number[]) => {
        batches.push(items);
        return items.map((n) => n * 2);
      },
      { maxInFlight: 1, maxItems: 100 },
    );
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => double(n)));
    assert.deepEqual(results, [2, 4, 6, 8, 10]);
    assert.deepEqual(batches, [[1, 2, 3, 4, 5]]);
  });

  test('items arriving while the allowed batches run wait and leave together; maxItems splits', async () => {
    const batches: number[][] = [];
    let running = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const queue = createBatchQueue(
      async (items: number[]) => {
        batches.push(items);
        most = Math.max(most, ++running);
        await new Promise<void>((r) => release.push(r));
        running--;
        return items;
      },
      { maxInFlight: 2, maxItems: 3 },
    );
    const first = [queue(1)];
    await tick();
    const second = [queue(2)];
    await tick();
    // Two batches run; these seven wait.
    const waiting = [3, 4, 5, 6, 7, 8, 9].map((n) => queue(n));
    await tick();
    assert.deepEqual(batches, [[1], [2]]);
    assert.equal(queue.pending(), 9);
    while (release.length || batches.length < 5) {
      release.shift()?.();
      await tick();
    }
    await Promise.all([...first, ...second, ...waiting]);
    assert.deepEqual(batches, [[1], [2], [3, 4, 5], [6, 7, 8], [9]]);
    assert.equal(most, 2);
    assert.equal(queue.pending(), 0);
  });

  test('gatherMs holds the first batch back so that later calls join it', async () => {
    const batches: number[][] = [];
    const queue = createBatchQueue(
      async (items: number[]) => {
        batches.push(items);
        return items;
      },
      { maxInFlight: 1, maxItems: 100, gatherMs: 500 }, // far longer than the pause below, even on a busy machine
    );
    const early = queue(1);
    await new Promise((r) => setTimeout(r, 5));
    const late = queue(2);
    await Promise.all([early, late]);
    assert.deepEqual(batches, [[1, 2]]);
  });

  test('a failing batch rejects its own items only, and drained() waits for everything', async () => {
    let calls = 0;
    const queue = createBatchQueue(
      async (items: string[]) => {
        calls++;
        if (items.includes('bad')) throw new Error('the database said no');
        await new Promise((r) => setTimeout(r, 10));
        return items.map((s) => s.toUpperCase());
      },
      { maxInFlight: 1, maxItems: 100 },
    );
    const failed = Promise.allSettled([queue('a'), queue('bad')]);
    await tick();
    const later = queue('c');
    const settled = await failed;
    assert.deepEqual(
      settled.map((s) => s.status),
      ['rejected', 'rejected'],
    );
    await queue.drained();
    assert.equal(queue.pending(), 0, 'drained() resolved with nothing left');
    assert.equal(await later, 'C');
    assert.equal(calls, 2);
  });
});
