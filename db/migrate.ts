// Runs the SQL migrations in db/migrations forward. node-pg-migrate takes an advisory lock, so an
// api and a worker starting together do not race, and records what ran in pgmigrations. A
// Postgres that restarts while a process starts only delays it: the run is tried again (the
// migrations run in one transaction, so a cut-off run left nothing behind).
import path from 'node:path';
import pg from 'pg';
import { isDatabaseUnavailable } from './pool';

export const migrationsDir = path.join(__dirname, 'migrations');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function migrate(databaseUrl: string, options: { log?: (line: string) => void; retryForMs?: number } = {}): Promise<string[]> {
  const { runner } = await import('node-pg-migrate');
  const deadline = Date.now() + (options.retryForMs ?? 60_000);
  for (;;) {
    const client = new pg.Client({ connectionString: databaseUrl });
    // A connection lost between two statements fails the next one (retried below) instead of
    // surfacing as an unhandled 'error' event that would end the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      const ran = await runner({
        dbClient: client,
        dir: migrationsDir,
        direction: 'up',
        migrationsTable: 'pgmigrations',
        count: Infinity,
        checkOrder: true,
        singleTransaction: true,
        // The other process waits for the lock instead of failing (node-pg-migrate's default is 'fail').
        advisoryLockMode: 'wait',
        verbose: false,
        log: options.log ?? (() => undefined),
        logger: { debug: () => undefined, info: options.log ?? (() => undefined), warn: console.warn, error: console.error },
      });
      return ran.map((m) => m.name);
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() > deadline) throw error;
      console.warn(`migrations: Postgres cannot be reached (${(error as Error).message}); trying again in 1 s`);
      await sleep(1_000);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
