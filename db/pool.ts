import pg from 'pg';

// numeric (money) stays a string so no amount ever passes through a float; bigint ids become numbers
// (they stay far below 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));

export type Pool = pg.Pool;

/** What the db/ modules query through: the pool, or a transaction's client (pg.PoolClient). */
export type Queryable = Pick<pg.Pool, 'query'>;

/**
 * A client that listens for its own 'error' from birth: a connection lost while connecting, or
 * while checked out between two queries (a transaction waiting on Temporal), would otherwise be an
 * unhandled 'error' event that kills the process when Postgres restarts. Its next query fails instead.
 */
class ListenedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', (error) => console.error(`Postgres connection lost: ${error.message}`));
  }
}

export function createPool(databaseUrl: string, options: { max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10, Client: ListenedClient });
  // An idle client losing its connection: the pool drops it and passes its 'error' on here; the
  // client itself already said so, and without a listener the pool's 'error' would end the process.
  pool.on('error', () => undefined);
  return pool;
}

// SQLSTATE classes and socket errors that mean "Postgres cannot be reached now", not "this input
// is wrong": 08 connection exceptions, 57P01-57P03 (shutting down, starting up), 53300 (too many
// connections).
const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);

/** True when an error says Postgres is away (down, restarting, refusing connections). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (unreachableCodes.has(code) || code.startsWith('08'))) return true;
  // node-postgres' own words when the server closes the socket or a connect times out, and a
  // database whose connections an administrator turned off (ALLOW_CONNECTIONS false).
  return /Connection terminated|timeout exceeded when trying to connect|is not currently accepting connections/i.test(error.message);
}

/** Runs `work` in a transaction of its own when given the pool; a client is taken to be inside its caller's transaction. */
export async function inTransaction<T>(db: Queryable, work: (tx: Queryable) => Promise<T>): Promise<T> {
  if (!(db instanceof pg.Pool)) return work(db);
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
