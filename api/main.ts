// The api process: validates configuration, runs pending migrations, connects to Temporal and
// serves the app on API_HOST:API_PORT. Logs are JSON lines on stdout (pino, redacted).
// On SIGTERM (or SIGINT) it drains: /readyz answers 503, the listener closes so new connections
// are refused, requests in flight (downloads) get SHUTDOWN_GRACE to finish, then the rest are cut.
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit, secretsOf, type Config } from '../config/env';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { createLogger, routeConsoleTo, type Logger } from '../logging/logger';
import { restClientFromConfig } from '../paypal/rest/client';
import { createApp } from './app';
import { collectProcessMetrics } from './metrics';

async function main(logger: Logger, config: Config) {
  await migrate(config.databaseUrl);
  const pool = createPool(config.databaseUrl, { max: 20 });
  // lazy: the api starts (and answers /healthz) even while Temporal is still coming up.
  const connection = Connection.lazy(temporalConnectionOptions(config));
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const shutdown = { draining: false, beforeClose: [] as (() => Promise<void>)[] };
  collectProcessMetrics();
  // One per process: every PayPal REST call of this api shares its cached OAuth token.
  const paypalRest = restClientFromConfig(config.paypal, (line) => logger.warn(line));
  const app = createApp({ config, pool, temporal, logger, shutdown, paypalRest });
  const server = serve({ fetch: app.fetch, hostname: config.apiHost, port: config.apiPort }, (info) => {
    logger.info({ address: info.address, port: info.port, publicUrl: config.publicUrl }, `Keyship api listening on http://${info.address}:${info.port} (public URL ${config.publicUrl})`);
  }) as Server;

  const stop = (signal: string) => {
    if (shutdown.draining) return;
    shutdown.draining = true;
    const graceSeconds = config.shutdownGraceSeconds;
    server.getConnections((_, open) =>
      logger.info({ signal, openConnections: open, graceSeconds }, `${signal}: no new connections; requests in flight have ${graceSeconds} s to finish`),
    );
    // Keep-alive connections between requests would hold the listener open: close them as they idle.
    const idle = setInterval(() => server.closeIdleConnections(), 250).unref();
    const cut = setTimeout(() => {
      server.getConnections((_, open) => logger.warn({ openConnections: open }, `grace period of ${graceSeconds} s over: cutting the connections still open`));
      server.closeAllConnections();
    }, graceSeconds * 1000).unref();
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      void Promise.allSettled(shutdown.beforeClose.map((flush) => flush()))
        .then(() => Promise.allSettled([pool.end(), connection.close()]))
        .then(() => {
          logger.info('Keyship api stopped');
          process.exit(0);
        });
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

const config = loadConfigOrExit({ require: ['ADMIN_TOKEN'] });
const logger = createLogger({ service: 'api', level: config.logLevel, secrets: secretsOf(config) });
routeConsoleTo(logger);
main(logger, config).catch((error: unknown) => {
  logger.fatal({ err: error }, `Keyship api could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
