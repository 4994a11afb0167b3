// Builds the Keyship worker: the invoice workflows (and any others in workflows/index.ts) and the
// activities it is handed. Tests and worker/main.ts both come through here.
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** A prebuilt bundle (tests cache one); without it the worker bundles workflows/index.ts. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  workflowsPath?: string;
  tuning?: Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'>;
  /** Shutdown drain times and activity interceptors (worker/main.ts: logs and metrics). */
  operation?: Pick<WorkerOptions, 'shutdownGraceTime' | 'shutdownForceTime' | 'interceptors'>;
}

export function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: options.workflowsPath ?? require.resolve('../workflows') }),
    ...options.tuning,
    ...options.operation,
  });
}
