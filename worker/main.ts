// The worker process: validates configuration, runs pending migrations, and runs the invoice
// workflows and their activities against Temporal until SIGTERM/SIGINT, then drains: it stops
// polling, lets running activities finish for SHUTDOWN_GRACE, and exits.
// Logs: JSON lines on stdout (pino), the SDK's and the workflows' and activities' included.
// Metrics: Prometheus on WORKER_METRICS_HOST:WORKER_METRICS_PORT (/metrics), the Temporal SDK's
// worker metrics (temporal_*) beside Keyship's (keyship_deliveries_total, keyship_email_failures_total).
import nodemailer from 'nodemailer';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfigOrExit, secretsOf, type Config } from '../config/env';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { createActivities } from '../activities';
import { invoiceSettingsFromConfig } from '../domain/invoice-settings';
import { InvoiceNumbers } from '../logging/invoice-numbers';
import { createLogger, routeConsoleTo, type Logger } from '../logging/logger';
import { temporalLogger } from '../logging/temporal-logger';
import { restClientFromConfig } from '../paypal/rest/client';
import { statusLookupFromConfig } from '../paypal/status-lookup';
import { activityObserver } from './activity-observer';
import { createWorker } from './create-worker';
import { prebuiltWorkflowBundle } from './workflow-bundle';
import { countingFailures, createWorkerMetrics } from './worker-metrics';

async function main(logger: Logger, config: Config) {
  // Until the worker polls nothing is in flight, so a stop (Ctrl-C during a first start's bundling)
  // ends the process at once instead of being swallowed by the Temporal runtime's signal handling.
  let polling = false;
  const stopBeforePolling = (signal: NodeJS.Signals) => {
    if (polling) return;
    logger.info(`${signal} before the worker began polling: stopped`);
    process.exit(0);
  };
  process.once('SIGTERM', stopBeforePolling);
  process.once('SIGINT', stopBeforePolling);
  const invoiceNumbers = new InvoiceNumbers();
  const metricsAddress = installRuntime(config, logger, invoiceNumbers);
  const settings = invoiceSettingsFromConfig(config);
  await migrate(config.databaseUrl);
  const pool = createPool(config.databaseUrl, { max: 20 });
  const metrics = createWorkerMetrics();
  // Pooled: a few SMTP connections kept open and reused, rather than a connection, greeting and
  // EHLO for every e-mail.
  const mailer = countingFailures(nodemailer.createTransport({ url: config.smtpUrl, pool: true }, { from: config.mailFrom }), metrics);
  const paypalRest = restClientFromConfig(config.paypal, (line) => logger.warn(line));
  const connection = await connectWithRetry(temporalConnectionOptions(config));
  const graceMs = config.shutdownGraceSeconds * 1000;
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await prebuiltWorkflowBundle().catch((error: unknown) => {
      // A read-only node_modules, say: bundle in this process instead (slower start, more memory).
      logger.warn(`${error instanceof Error ? error.message : String(error)}; bundling the workflows in the worker process instead`);
      return undefined;
    }),
    activities: createActivities({ pool, mailer, paypalStatus: statusLookupFromConfig(config.paypal, pool, paypalRest), settings, paypalRest }),
    tuning: {
      maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
      maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
      maxCachedWorkflows: config.worker.maxCachedWorkflows,
    },
    operation: {
      shutdownGraceTime: graceMs,
      // Past this the worker gives up on activities that ignore cancellation and the process exits 1.
      shutdownForceTime: graceMs + 15_000,
      interceptors: { activity: [activityObserver({ pool, invoiceNumbers, metrics })] },
    },
  });
  process.once('SIGTERM', () => logger.info({ graceSeconds: config.shutdownGraceSeconds }, 'SIGTERM: draining (no new tasks; running activities may finish)'));
  logger.info(
    { temporal: config.temporal.address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, metrics: metricsAddress ?? 'off' },
    `Keyship worker polling ${config.temporal.address}, namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}`,
  );
  // worker.run() resolves after a shutdown signal (SIGINT, SIGTERM) once in-flight tasks drained.
  polling = true;
  await worker.run();
  await Promise.allSettled([pool.end(), connection.close()]);
  mailer.close();
  logger.info('Keyship worker stopped: drained');
}

/**
 * The Temporal Runtime: its logger is the pino logger (Core's own warnings forwarded to it), and
 * its metrics go to a Prometheus endpoint. A taken port is a warning, not a failure: the worker
 * matters more than its metrics. Returns the metrics address, if any.
 */
function installRuntime(config: Config, logger: Logger, invoiceNumbers: InvoiceNumbers): string | undefined {
  const base = { logger: temporalLogger(logger, invoiceNumbers), telemetryOptions: { logging: { filter: { core: 'WARN' as const, other: 'ERROR' as const }, forward: {} } } };
  if (config.worker.metricsPort === 0) {
    Runtime.install(base);
    return undefined;
  }
  const bindAddress = `${config.worker.metricsHost}:${config.worker.metricsPort}`;
  try {
    Runtime.install({ ...base, telemetryOptions: { ...base.telemetryOptions, metrics: { prometheus: { bindAddress } } } });
    return `http://${bindAddress}/metrics`;
  } catch (error) {
    logger.warn(`worker metrics are off: ${(error as Error).message} on ${bindAddress}; set WORKER_METRICS_PORT to a free port (0 turns the endpoint off).`);
    Runtime.install(base);
    return undefined;
  }
}

/** Temporal may still be starting (npm start, compose): try for a minute before giving up. */
async function connectWithRetry(options: ReturnType<typeof temporalConnectionOptions>): Promise<NativeConnection> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await NativeConnection.connect(options);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${options.address} could not be reached for a minute (${(error as Error).message}); check TEMPORAL_ADDRESS.`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

const config = loadConfigOrExit();
const logger = createLogger({ service: 'worker', level: config.logLevel, secrets: secretsOf(config) });
routeConsoleTo(logger);
main(logger, config).catch((error: unknown) => {
  logger.fatal({ err: error }, `Keyship worker stopped: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
