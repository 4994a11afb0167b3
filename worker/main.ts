// The worker process: validates configuration, runs pending migrations, and runs the invoice
// workflows and their activities against Temporal until SIGTERM/SIGINT, then drains.
import nodemailer from 'nodemailer';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfigOrExit, type Config } from '../config/env';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { createActivities, invoiceSettingsFromConfig } from '../activities';
import { statusLookupFromConfig } from '../paypal/status-lookup';
import { createWorker } from './create-worker';

async function main() {
  const config = loadConfigOrExit();
  Runtime.install({ logger: new DefaultLogger(temporalLogLevel[config.logLevel]) });
  const settings = invoiceSettingsFromConfig(config);
  await migrate(config.databaseUrl);
  const pool = createPool(config.databaseUrl, { max: 20 });
  const mailer = nodemailer.createTransport(config.smtpUrl, { from: config.mailFrom });
  const connection = await connectWithRetry(temporalConnectionOptions(config));
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({ pool, mailer, paypalStatus: statusLookupFromConfig(config.paypal, pool), settings }),
  });
  console.log(`Keyship worker polling ${config.temporal.address}, namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}`);
  // worker.run() resolves after a shutdown signal (SIGINT, SIGTERM) once in-flight tasks drained.
  await worker.run();
  await Promise.allSettled([pool.end(), connection.close()]);
  mailer.close();
}

const temporalLogLevel: Record<Config['logLevel'], LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

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

main().catch((error: unknown) => {
  console.error(`Keyship worker stopped: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
