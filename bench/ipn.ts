// `npm run bench -- ipn`: the PayPal IPN listener alone (issue 4, item 8): how fast /paypal/ipn
// acknowledges and how many notifications per second it sustains. Genuine simulator IPNs
// (paypal/simulator/ipn-load.ts) posted by 1, 4 and 16 senders that each wait for the answer;
// each is stored raw, posted back to the simulator (VERIFIED), routed to its invoice workflow by
// signalWithStart, and answered. The worker runs meanwhile, as in production, delivering them.
import { ipnLoad } from '../paypal/simulator/ipn-load';
import { startKeyshipStack } from './keyship-stack';
import { cpuLine, cpuMeter } from './proc-stats';
import type { Benchmark } from './types';

const levels = [
  { concurrency: 1, count: 60 },
  { concurrency: 4, count: 120 },
  { concurrency: 16, count: 240 },
];

export const ipnBenchmark: Benchmark = {
  name: 'ipn',
  description: 'IPN acknowledgement latency (p50, p99) and notifications per second at /paypal/ipn',
  async run(log) {
    const stack = await startKeyshipStack(log);
    try {
      const rows: (string | number)[][] = [];
      const raw = [];
      for (const level of levels) {
        const meter = cpuMeter(stack.pids);
        const result = await ipnLoad(stack.simulator, { notifyUrl: stack.ipnUrl, count: level.count, concurrency: level.concurrency, ...stack.item });
        const cpu = meter.stop();
        const failed = result.count - (result.statuses['200'] ?? 0);
        log(`${level.concurrency} sender(s): ${result.perSecond.toFixed(1)}/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms${failed ? `, ${failed} not 200` : ''}`);
        rows.push([level.concurrency, result.count, result.perSecond.toFixed(1), result.p50Ms.toFixed(1), result.p99Ms.toFixed(1), failed, cpuLine(cpu)]);
        raw.push({ ...result, txnIds: undefined, cpu });
        // Let the worker catch up, so each level starts from the same quiet state.
        await stack.simulator.idle();
        await new Promise((r) => setTimeout(r, 3000));
      }
      return {
        columns: ['senders', 'IPNs', 'notifications/s', 'ack p50 ms', 'ack p99 ms', 'non-200', 'CPU (% of one core)'],
        rows,
        notes: [
          'Each sender posts a genuine simulator IPN (all buyers share one address, as ipnLoad makes them) and waits for the answer: a closed loop, so notifications/s is what the listener sustains at that concurrency.',
          'The answer comes after the raw copy is stored, the postback answered VERIFIED and the workflow signalled; the worker delivers meanwhile and shares the CPU. Postgres fsync on. "others": CPU of other processes on this shared machine.',
        ],
        raw,
      };
    } finally {
      await stack.stop();
    }
  },
};
