// The floor's worker process: the floor workflow (prebuilt from bench/floor-workflow.ts alone) and
// its do-nothing activities, through the same createWorker as Keyship's worker with the same
// tuning. Prints "ready" once polling, then "delivered <txnId> <epoch ms>" for each purchase.
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createWorker } from '../worker/create-worker';
import { prebuiltWorkflowBundle } from '../worker/workflow-bundle';
import { floorActivities } from './floor-activities';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue: process.env.TEMPORAL_TASK_QUEUE ?? 'floor',
    workflowBundle: await prebuiltWorkflowBundle(require.resolve('./floor-workflow')),
    activities: floorActivities((txnId) => process.stdout.write(`delivered ${txnId} ${Date.now()}\n`)),
  });
  console.log('ready');
  await worker.run();
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(`floor worker stopped: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
