// `npm run bench -- floor`: Temporal's own floor for a purchase. The invoice workflow's shape with
// activities that do nothing (bench/floor-workflow.ts), on the same kind of Temporal dev server,
// driven straight through signalWithStart at rising rates: the most purchases per second any
// design on Temporal could deliver on this machine. The purchases benchmark is measured against it.
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { startDevServer } from '../temporal-server/dev-server';
import { freePort } from '../test/harness/ports';
import { paypalNotification } from '../workflows/messages';
import { startNodeProcess } from './node-process';
import { cpuLine } from './proc-stats';
import { cardNotification } from './purchase-notification';
import { climb, cpuPerUnitLine, type LadderResult } from './rate-ladder';
import type { Benchmark } from './types';

/** The floor measured in this run, for the purchases benchmark's ratio. */
export let floorResult: LadderResult | undefined;

export const floorBenchmark: Benchmark = {
  name: 'floor',
  description: "Temporal's floor: the invoice workflow's shape with do-nothing activities, workflows delivered per second",
  async run(log) {
    const temporal = await startDevServer({ port: await freePort() });
    const delivered = new Map<string, number>();
    const toNow = (epochMs: number) => epochMs - performance.timeOrigin;
    let worker: Awaited<ReturnType<typeof startNodeProcess>> | undefined;
    const connection = await Connection.connect({ address: temporal.address });
    try {
      worker = await startNodeProcess({
        script: 'bench/floor-worker.ts',
        env: { TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: 'floor' },
        ready: /^ready$/,
        onLine: (line) => {
          const [word, txnId, at] = line.split(' ');
          if (word === 'delivered' && txnId && at) delivered.set(txnId, toNow(Number(at)));
        },
      });
      const client = new Client({ connection, namespace: 'default' });
      const ladder = await climb({
        start: 8,
        factor: 1.5,
        maxSteps: 9,
        seconds: 6,
        drainMs: 20_000,
        log,
        pids: { 'floor worker': worker.pid, temporal: temporal.process.pid!, 'load generator': process.pid },
        deliveredAt: (id) => delivered.get(id),
        async fire() {
          const txnId = randomBytes(9).toString('hex').toUpperCase();
          await client.workflow.signalWithStart('floorInvoice', {
            workflowId: `invoice-${txnId}`,
            taskQueue: 'floor',
            args: [],
            signal: paypalNotification,
            signalArgs: [cardNotification(txnId, `${txnId.toLowerCase()}@buyer.test`)],
            workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          });
          return { id: txnId, ok: true };
        },
      });
      floorResult = ladder;
      const rows = [...ladder.steps, ...(ladder.half ? [ladder.half] : []), ladder.steady].map((s) => [
        s === ladder.half ? `${s.offered} (half)` : s === ladder.steady ? `${s.offered} (steady)` : s.offered,
        s.throughput,
        s.ackP50,
        s.ackP99,
        s.e2eP50,
        s.e2eP99,
        cpuLine(s.cpu),
      ]);
      return {
        columns: ['offered/s', 'delivered/s', 'signalWithStart p50 ms', 'p99 ms', 'start→"sendKeys" p50 ms', 'p99 ms', 'CPU (% of one core)'],
        rows,
        notes: [
          ...(ladder.saturation === undefined ? [] : [`Floor: ${ladder.saturation} workflows delivered per second at saturation.`]),
          `CPU per workflow at a steady ${ladder.steady.offered}/s: ${cpuPerUnitLine(ladder.steady)}.`,
          'Same signal and payload, the same 7 activities with the same options, the same two patched() markers, one timer; activities answer at once; no search attributes of its own. Temporal CLI dev server (in memory), one worker process with Keyship\'s worker settings (worker/create-worker.ts).',
          'Open loop: each step starts purchases at the offered rate (6 s a step, 30 s at half the saturation, 20 s for the steady step), then waits for every one to reach the sendKeys activity (delivery); delivered/s is measured between the first and last delivery of the step.',
        ],
        raw: ladder,
      };
    } finally {
      await worker?.stop();
      await connection.close();
      await temporal.stop();
    }
  },
};
