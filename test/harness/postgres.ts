// Throwaway databases for tests. test/run.ts starts one cluster for the whole run and migrates a
// template database once; each test takes a fresh copy of that template (a file copy: fast).
// A test file run on its own starts its own cluster the first time it asks.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startCluster, ensureDatabase, type Cluster } from '../../db/cluster';
import { migrate } from '../../db/migrate';
import { createPool, type Pool } from '../../db/pool';
import { freePort } from './ports';

export const templateDatabase = 'keyship_template';

export interface TestCluster {
  cluster: Cluster;
  dir: string;
  stop(): Promise<void>;
}

/** Starts a fast, throwaway cluster in a temporary folder, with the migrated template database. */
export async function startTestCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyship-test-pg-'));
  chmodSync(dir, 0o755); // the postgres user (as root) must reach its data folder
  const cluster = await startCluster({ dataDir: path.join(dir, 'data'), port: await freePort(), fast: true });
  await ensureDatabase(cluster.adminUrl, templateDatabase);
  await migrate(cluster.urlFor(templateDatabase));
  return {
    cluster,
    dir,
    async stop() {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let ownCluster: Promise<TestCluster> | undefined;

async function adminUrl(): Promise<string> {
  const shared = process.env.KEYSHIP_TEST_PG_ADMIN_URL;
  if (shared) return shared;
  ownCluster ??= startTestCluster().then((c) => {
    process.once('exit', () => c.cluster.process.kill('SIGKILL'));
    return c;
  });
  return (await ownCluster).cluster.adminUrl;
}

export interface TestDatabase {
  url: string;
  pool: Pool;
  /**
   * Postgres goes away for this database: once this resolves its connections are cut and new ones
   * are refused, until the function it answers is called.
   */
  cut(): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** A new, migrated, empty database; close() drops it. */
export async function freshDatabase(): Promise<TestDatabase> {
  const admin = await adminUrl();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${templateDatabase}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString());
  return {
    url: url.toString(),
    pool,
    async cut() {
      const control = new pg.Client({ connectionString: admin });
      await control.connect();
      try {
        await control.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
        await control.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      } catch (error) {
        await control.end();
        throw error;
      }
      return async () => {
        try {
          await control.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
        } finally {
          await control.end();
        }
      };
    },
    async close() {
      await pool.end();
      const drop = new pg.Client({ connectionString: admin });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => drop.end());
    },
  };
}

