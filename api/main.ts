// The api process: validates configuration, runs pending migrations, connects to Temporal and
// serves the app on API_HOST:API_PORT. On SIGTERM it stops accepting and lets requests finish.
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../config/env';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { createPool } from '../db/pool';
import { migrate } from '../db/migrate';
import { createApp } from './app';

async function main() {
  const config = loadConfigOrExit({ require: ['ADMIN_TOKEN'] });
  await migrate(config.databaseUrl);
  const pool = createPool(config.databaseUrl, { max: 20 });
  // lazy: the api starts (and answers /healthz) even while Temporal is still coming up.
  const connection = Connection.lazy(temporalConnectionOptions(config));
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const app = createApp({ config, pool, temporal });
  const server = serve({ fetch: app.fetch, hostname: config.apiHost, port: config.apiPort }, (info) => {
    console.log(`Keyship api listening on http://${info.address}:${info.port} (public URL ${config.publicUrl})`);
  });
  const shutdown = () => {
    console.log('Keyship api stopping: no new connections, finishing requests in flight.');
    const force = setTimeout(() => process.exit(0), 25_000).unref();
    server.close(() => {
      void Promise.allSettled([pool.end(), connection.close()]).then(() => {
        clearTimeout(force);
        process.exit(0);
      });
    });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(`Keyship api could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
