// `npm run bench -- pending [--full | --pending=N]`: many eCheck invoices pending at once, then all
// cleared at once. Creating: N Pending eCheck IPNs posted by 32 senders; done when every buyer has
// the "payment pending" e-mail (each workflow has recorded its invoice and waits on its timers).
// Then the memory of the worker, the Temporal server and the api, and the database's size. Then
// the simulator clears every eCheck (PayPal's Completed IPN, 64 deliveries at a time, resent on
// a non-200 as PayPal does) and the clock runs until the last delivery e-mail reaches the SMTP
// capture. Default N = 300 (a minute or two here); --full is the issue's 10,000. Worker settings
// to try (e.g. a heap limit) go in BENCH_WORKER_ENV as JSON: '{"WORKER_MAX_CACHED_WORKFLOWS":"1000"}'.
import { percentile } from './rate-ladder';
import { startKeyshipStack } from './keyship-stack';
import { cpuLine, cpuMeter, rssBytes } from './proc-stats';
import type { Benchmark } from './types';
import { invoiceStatus } from '../domain/invoice-status';

const MiB = 2 ** 20;
const goalSeconds = 120;
const goalWorkerRssMiB = 512;
/** Keeps the whole `npm run bench` within minutes on 2 shared cores. */
const defaultCount = 300;

function pendingCount(): number {
  if (process.argv.includes('--full')) return 10_000;
  const given = process.argv.find((a) => a.startsWith('--pending='));
  return given ? Math.max(1, Number(given.slice('--pending='.length)) || defaultCount) : defaultCount;
}

/** Runs `task` for each item, `concurrency` at a time. */
async function pool<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < items.length; i = next++) await task(items[i]!);
    }),
  );
}

export const pendingScaleBenchmark: Benchmark = {
  name: 'pending',
  description: 'eCheck invoices pending at once (default 300; --full: 10,000), then all cleared at once',
  async run(log) {
    const count = pendingCount();
    // The whole run is bounded: creating and clearing each get a deadline that grows with N.
    const phaseLimitMs = Math.max(180_000, count * 150);
    const stack = await startKeyshipStack(log, { workerEnv: process.env.BENCH_WORKER_ENV ? (JSON.parse(process.env.BENCH_WORKER_ENV) as Record<string, string>) : undefined });
    const mail = stack.mail;
    const peak = { worker: 0, temporal: 0, api: 0 };
    const sampler = setInterval(() => {
      peak.worker = Math.max(peak.worker, rssBytes(stack.worker.pid));
      peak.temporal = Math.max(peak.temporal, rssBytes(stack.temporal.process.pid!));
      peak.api = Math.max(peak.api, rssBytes(stack.api.pid));
    }, 250);
    // A long run (--full) says how far it is every 30 s.
    const started = performance.now();
    const progress = setInterval(() => {
      const s = Math.round((performance.now() - started) / 1000);
      log(`  ${s} s: ${mail.count('pending')} pending and ${mail.count('delivery')} delivery e-mails; worker ${Math.round(rssBytes(stack.worker.pid) / MiB)} MiB, Temporal ${Math.round(rssBytes(stack.temporal.process.pid!) / MiB)} MiB`);
    }, 30_000);
    try {
      const tag = Date.now().toString(36);
      const buyers = Array.from({ length: count }, (_, i) => `e${i}.${tag}@buyer.test`);
      const txnOf = new Map<string, string>();
      const statuses: Record<string, number> = {};

      log(`creating ${count} pending eCheck invoices (32 senders)`);
      let meter = cpuMeter(stack.pids);
      const created0 = performance.now();
      await pool(buyers, 32, async (email) => {
        const { txnId, raw } = stack.simulator.prepare({ method: 'echeck', items: [stack.item], payer: { email }, notifyUrl: stack.ipnUrl, webhooks: false });
        txnOf.set(email, txnId);
        const response = await fetch(stack.ipnUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'PayPal IPN ( https://www.paypal.com/ipn )' },
          body: raw,
        });
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      });
      const ackedSeconds = (performance.now() - created0) / 1000;
      const allPending = await mail.waitFor('pending', count, phaseLimitMs);
      const createdSeconds = (performance.now() - created0) / 1000;
      const createCpu = meter.stop();
      log(`  IPNs answered in ${ackedSeconds.toFixed(1)} s (${JSON.stringify(statuses)}); ${mail.count('pending')} pending e-mails after ${createdSeconds.toFixed(1)} s`);

      await new Promise((r) => setTimeout(r, 2000)); // let the cache and the heap settle
      const idle = { worker: rssBytes(stack.worker.pid), temporal: rssBytes(stack.temporal.process.pid!), api: rssBytes(stack.api.pid) };
      const size = await stack.pool.query<{ bytes: number; invoices: number; awaiting: number }>(
        `SELECT pg_database_size(current_database())::bigint AS bytes, (SELECT count(*)::int FROM invoices) AS invoices,
                (SELECT count(*)::int FROM invoices WHERE status = $1) AS awaiting`,
        [invoiceStatus.awaiting_payment],
      );
      const db = size.rows[0]!;
      log(`  ${db.awaiting} invoices awaiting payment; worker ${Math.round(idle.worker / MiB)} MiB, Temporal ${Math.round(idle.temporal / MiB)} MiB, database ${Math.round(db.bytes / MiB)} MiB`);

      log(`clearing all ${count} eChecks (Completed IPNs, 64 deliveries at a time)`);
      meter = cpuMeter(stack.pids);
      const cleared0 = performance.now();
      const clearedAt = new Map<string, number>();
      const clearStatuses: Record<string, number> = {};
      await pool(buyers, 64, async (email) => {
        clearedAt.set(email, performance.now());
        const report = await stack.simulator.clear(txnOf.get(email)!);
        for (const ipn of report.ipns) clearStatuses[ipn.httpStatus] = (clearStatuses[ipn.httpStatus] ?? 0) + 1;
      });
      const clearAckSeconds = (performance.now() - cleared0) / 1000;
      const allDelivered = await mail.waitFor('delivery', count, phaseLimitMs);
      const clearCpu = meter.stop();
      const latencies = buyers.flatMap((b) => {
        const at = mail.at('delivery', b);
        return at === undefined ? [] : [at - clearedAt.get(b)!];
      });
      const lastSeconds = latencies.length ? (Math.max(...buyers.map((b) => mail.at('delivery', b) ?? 0)) - cleared0) / 1000 : Infinity;
      log(`  IPNs answered in ${clearAckSeconds.toFixed(1)} s (${JSON.stringify(clearStatuses)}); ${mail.count('delivery')} delivery e-mails, the last ${lastSeconds.toFixed(1)} s after clearing began`);
      const after = { worker: rssBytes(stack.worker.pid), temporal: rssBytes(stack.temporal.process.pid!) };
      const sizeAfter = (await stack.pool.query<{ bytes: number }>('SELECT pg_database_size(current_database())::bigint AS bytes')).rows[0]!.bytes;

      const mib = (b: number) => Math.round(b / MiB);
      const peakWorker = mib(peak.worker);
      const rows: (string | number)[][] = [
        ['pending eCheck invoices created at once', count, '–'],
        ['time until every IPN was answered, s', ackedSeconds.toFixed(1), '–'],
        ['time until every buyer had the "pending" e-mail, s', allPending ? createdSeconds.toFixed(1) : `not all within ${phaseLimitMs / 1000} s (${mail.count('pending')})`, '–'],
        ['CPU while creating (% of one core)', cpuLine(createCpu), '–'],
        ['worker RSS with all pending / peak over the run, MiB', `${mib(idle.worker)} / ${peakWorker}`, `≤ ${goalWorkerRssMiB}: ${peakWorker <= goalWorkerRssMiB ? 'met' : 'missed'}`],
        ['Temporal server RSS with all pending / peak, MiB', `${mib(idle.temporal)} / ${mib(peak.temporal)}`, '–'],
        ['api RSS peak, MiB', mib(peak.api), '–'],
        ['database size with all pending / after delivery, MiB', `${mib(db.bytes)} / ${mib(sizeAfter)}`, '–'],
        ['all cleared at once: time until the last delivery e-mail, s', allDelivered ? lastSeconds.toFixed(1) : `not all within ${phaseLimitMs / 1000} s (${mail.count('delivery')})`, `≤ ${goalSeconds}: ${allDelivered && lastSeconds <= goalSeconds ? 'met' : 'missed'}`],
        ['clearing IPN → delivery e-mail p50 / p99, s', `${(percentile(latencies, 50) / 1000).toFixed(1)} / ${(percentile(latencies, 99) / 1000).toFixed(1)}`, '–'],
        ['deliveries per second while clearing', (latencies.length / Math.max(lastSeconds, 0.001)).toFixed(1), '–'],
        ['CPU while clearing (% of one core)', cpuLine(clearCpu), '–'],
        ['worker / Temporal RSS after delivery, MiB', `${mib(after.worker)} / ${mib(after.temporal)}`, '–'],
      ];
      return {
        columns: ['measurement', 'value', 'goal'],
        rows,
        notes: [
          `${count} invoices${count < 10_000 ? ' (a smaller count than the issue\'s; `npm run bench -- pending --full` runs the 10,000 of the issue)' : ''}. Every invoice is a genuine simulator eCheck: a Pending IPN, then PayPal's Completed IPN for the same transaction.`,
          'Each workflow stays open after delivery (keys, 180-day retention), as in production, so the worker cache and the Temporal server hold every one of them.',
          'Postgres fsync on; Temporal CLI dev server in memory (its RSS holds all histories); e-mails parsed back by the SMTP capture. "others": CPU of other processes on this shared machine.',
        ],
        raw: { count, ackedSeconds, createdSeconds, createCpu, idle, peak, db, sizeAfter, clearAckSeconds, lastSeconds, clearCpu, statuses, clearStatuses, latencies: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) } },
      };
    } finally {
      clearInterval(sampler);
      clearInterval(progress);
      await stack.stop();
    }
  },
};
