// IPN load for `npm run bench`: genuine simulator IPNs (so each postback answers VERIFIED) posted to
// Keyship's listener at a fixed concurrency; reports acknowledgement latency and notifications/s.
import type { Simulator } from './server';

export interface IpnLoadResult {
  count: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** How many answers of each HTTP status (0: no answer). */
  statuses: Record<string, number>;
  txnIds: string[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

export async function ipnLoad(simulator: Simulator, options: { notifyUrl: string; count: number; concurrency: number; itemNumber: string; amount: string }): Promise<IpnLoadResult> {
  const messages = Array.from({ length: options.count }, () =>
    simulator.prepare({ items: [{ itemNumber: options.itemNumber, amount: options.amount }], notifyUrl: options.notifyUrl, webhooks: false }),
  );
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    for (let i = next++; i < messages.length; i = next++) {
      const message = messages[i];
      if (!message) continue;
      const t0 = performance.now();
      let status = 0;
      try {
        const response = await fetch(options.notifyUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: message.raw });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        status = 0;
      }
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    count: options.count,
    concurrency: options.concurrency,
    seconds,
    perSecond: options.count / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    statuses,
    txnIds: messages.map((m) => m.txnId),
  };
}
