import pg from 'pg';

// numeric (money) stays a string so no amount ever passes through a float; bigint ids become numbers
// (they stay far below 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));

export type Pool = pg.Pool;

export function createPool(databaseUrl: string, options: { max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
  // An idle client losing its connection (Postgres restarted) must not crash the process.
  pool.on('error', (error) => console.error(`Postgres connection lost: ${error.message}`));
  // Nor one checked out between two queries (a transaction waiting on Temporal): without a listener
  // its 'error' event is unhandled and kills the process. Its next query fails instead.
  pool.on('connect', (client) => {
    client.on('error', (error) => console.error(`Postgres connection lost while in use: ${error.message}`));
  });
  return pool;
}
