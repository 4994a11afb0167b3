// A private PostgreSQL cluster run from the machine's own binaries (initdb, postgres), used by
// `npm start` (under .data/postgres) and by the tests (in a temporary folder). Postgres refuses to
// run as root, so as root the processes run as the `postgres` user that Debian's package creates.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export interface Cluster {
  /** Connection URL of the `postgres` maintenance database, as superuser `keyship`. */
  adminUrl: string;
  port: number;
  urlFor(database: string): string;
  stop(): Promise<void>;
  process: ChildProcess;
}

export interface ClusterOptions {
  dataDir: string;
  port: number;
  /** Trade durability for speed: only for throwaway test clusters. */
  fast?: boolean;
  log?: (line: string) => void;
}

const superuser = 'keyship';

export function findPostgresBin(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && existsSync(path.join(fromEnv, 'postgres'))) return fromEnv;
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0 && existsSync(path.join(pgConfig.stdout.trim(), 'initdb'))) return pgConfig.stdout.trim();
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((v) => existsSync(path.join(debianRoot, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(debianRoot, versions[0], 'bin');
  }
  throw new Error('PostgreSQL server binaries were not found; install PostgreSQL (Debian: apt-get install postgresql), set PG_BIN to its bin folder, or set DATABASE_URL to a running server.');
}

/** As root, the uid/gid of the `postgres` user, so children drop privileges; otherwise nothing. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('Postgres will not run as root and there is no `postgres` user; create one (useradd --system postgres), run as another user, or set DATABASE_URL.');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Whether `user` can write in `dir` (creating it, as its owner, when missing); a folder made for nothing is removed. */
function usableBy(dir: string, user: { uid: number; gid: number }): boolean {
  const existed = existsSync(dir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownSync(dir, user.uid, user.gid);
  } catch {
    return false;
  }
  if (spawnSync('test', ['-w', dir, '-a', '-x', dir], { uid: user.uid, gid: user.gid }).status === 0) return true;
  if (!existed) rmdirSync(dir);
  return false;
}

/** The postgres user's home folder, when it has one that exists. */
function postgresHome(): string | undefined {
  const entry = spawnSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' });
  const home = entry.status === 0 ? entry.stdout.trim().split(':')[5] : undefined;
  return home && existsSync(home) ? home : undefined;
}

/**
 * Where `npm start` keeps its cluster: `preferred` whenever Postgres can use it. As root Postgres
 * runs as the postgres user, which cannot enter a checkout under /root or a mode-700 folder; then a
 * folder of that user's own (in its home, or else /var/tmp), named after `label` and `preferred`,
 * so every start from the same place finds the same data.
 */
export function clusterDataDir(preferred: string, label: string): { dir: string; moved: boolean } {
  const user = runAs();
  const wanted = path.resolve(preferred);
  if (!user || usableBy(wanted, user)) return { dir: wanted, moved: false };
  const name = `${label.replace(/[^A-Za-z0-9._-]/g, '_')}-${createHash('sha256').update(wanted).digest('hex').slice(0, 12)}`;
  const bases = [postgresHome() && path.join(postgresHome()!, 'keyship'), '/var/tmp/keyship-postgres'].filter((b): b is string => Boolean(b));
  for (const base of bases) {
    if (usableBy(base, user) && usableBy(path.join(base, name), user)) return { dir: path.join(base, name), moved: true };
  }
  throw new Error(`Postgres runs as the postgres user here (it refuses root), and that user can reach neither ${wanted} nor ${bases.join(' nor ')}; let it through the parent folders (chmod o+x on each) or set DATABASE_URL to a running server.`);
}

function ensureDataDir(dataDir: string, user: { uid: number; gid: number } | undefined): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!user) return;
  chownSync(dataDir, user.uid, user.gid);
  const reachable = spawnSync('test', ['-w', dataDir], { uid: user.uid, gid: user.gid });
  if (reachable.status !== 0) {
    throw new Error(`Postgres runs as the postgres user here (it refuses root), and that user cannot reach ${dataDir}; let it through the parent folders (chmod o+x on each) or set DATABASE_URL to a running server.`);
  }
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const bin = findPostgresBin();
  const user = runAs();
  const dataDir = path.resolve(options.dataDir);
  ensureDataDir(dataDir, user);
  const log = options.log ?? (() => undefined);

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`initialising a PostgreSQL cluster in ${dataDir}`);
    const init = spawnSync(
      path.join(bin, 'initdb'),
      ['-D', dataDir, '-U', superuser, '--auth=trust', '--encoding=UTF8', '--locale=C', ...(options.fast ? ['--no-sync'] : [])],
      { encoding: 'utf8', ...user, cwd: dataDir },
    );
    if (init.status !== 0) throw new Error(`initdb failed in ${dataDir}: ${init.stderr || init.stdout}`);
    // Listen on loopback only and keep no Unix socket, so nothing depends on /var/run/postgresql.
    writeFileSync(
      path.join(dataDir, 'postgresql.auto.conf'),
      `listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n`,
    );
    if (user) chownSync(path.join(dataDir, 'postgresql.auto.conf'), user.uid, user.gid);
  }

  const settings = ['-p', String(options.port)];
  if (options.fast) settings.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const child = spawn(path.join(bin, 'postgres'), ['-D', dataDir, ...settings], {
    ...user,
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    for (const line of chunk.toString().split('\n')) if (line.trim()) log(line);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const adminUrl = `postgres://${superuser}@127.0.0.1:${options.port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`PostgreSQL stopped at start: ${output.trim()}`);
    const client = new pg.Client({ connectionString: adminUrl });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`PostgreSQL did not accept connections on port ${options.port} within 30 s: ${String(error)} ${output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    adminUrl,
    port: options.port,
    process: child,
    urlFor: (database) => `postgres://${superuser}@127.0.0.1:${options.port}/${database}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Creates the database if it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
