// A worker process for the crash test (test/invoice-crash.test.ts), which SIGKILLs it mid-delivery.
// Settings come from the environment the test passes; it prints "ready" once polling.
import { NativeConnection } from '@temporalio/worker';
import { createPool } from '../db/pool';
import { createWorker } from '../worker/create-worker';
import { workflowBundle } from './harness';
import { StatusAnswers, testActivities } from './invoice-fixtures';

async function main() {
  const env = (name: string) => process.env[name] ?? (() => { throw new Error(`${name} is not set; this script is started by test/invoice-crash.test.ts`); })();
  const pool = createPool(env('CRASH_DATABASE_URL'), { max: 4 });
  const connection = await NativeConnection.connect({ address: env('CRASH_TEMPORAL_ADDRESS') });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue: env('CRASH_TASK_QUEUE'),
    activities: testActivities(pool, env('CRASH_SMTP_URL'), new StatusAnswers()),
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  console.log('ready');
  await running;
  await pool.end();
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
