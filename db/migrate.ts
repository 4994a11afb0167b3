// Runs the SQL migrations in db/migrations forward. node-pg-migrate takes an advisory lock, so an
// api and a worker starting together do not race, and records what ran in pgmigrations.
import path from 'node:path';

export const migrationsDir = path.join(__dirname, 'migrations');

export async function migrate(databaseUrl: string, options: { log?: (line: string) => void } = {}): Promise<string[]> {
  const { runner } = await import('node-pg-migrate');
  const ran = await runner({
    databaseUrl,
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
}
