// The real Temporal server (not the dev server) and its SQL tool, built from the Go module at the
// version docker-compose.yml pins, once, into .cache/temporal-server-<version>/ (git-ignored).
// The module's source, left in Go's module cache by the build, holds the Postgres schema.
//   npx tsx temporal-server/server-build.ts      builds them if missing and prints where they are
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './executables';

/** The Temporal server release the compose file's images and the cluster test use. */
export const temporalServerVersion = '1.29.1';

export const serverCacheDir = path.join(projectRoot, '.cache', `temporal-server-${temporalServerVersion}`);

export interface TemporalServerBuild {
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12 in the module's source: temporal/ and visibility/, each with versioned/. */
  postgresSchema: string;
  /** Seconds the build took; 0 when it was already built. */
  buildSeconds: number;
}

function go(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): string {
  const result = spawnSync('go', args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('The Go toolchain (go) was not found on PATH; install Go 1.24 or newer to build the Temporal server.');
  }
  if (result.status !== 0) {
    throw new Error(`go ${args.join(' ')} failed (exit ${result.signal ?? result.status}${result.signal === 'SIGTERM' ? `, over ${timeoutMs / 1000} s` : ''}):\n${result.stderr.slice(-4000)}`);
  }
  return result.stdout.trim();
}

/** Builds the server and the SQL tool when missing (about 4 minutes on two cores), and answers where everything is. */
export function ensureTemporalServer(log: (line: string) => void = () => undefined): TemporalServerBuild {
  const server = path.join(serverCacheDir, 'temporal-server');
  const sqlTool = path.join(serverCacheDir, 'temporal-sql-tool');
  let buildSeconds = 0;
  if (!existsSync(server) || !existsSync(sqlTool)) {
    const started = Date.now();
    log(`building the Temporal server ${temporalServerVersion} and its SQL tool from the Go module proxy into ${path.relative(projectRoot, serverCacheDir)}/ (minutes, once)`);
    const staging = `${serverCacheDir}.partial`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    // go install names the executables after their folders (server, sql); they are renamed to
    // what Temporal's own images call them. Twenty minutes bound a build on a busy machine.
    go(['install', `go.temporal.io/server/cmd/server@v${temporalServerVersion}`, `go.temporal.io/server/cmd/tools/sql@v${temporalServerVersion}`], { GOBIN: staging, CGO_ENABLED: '0' }, 20 * 60_000);
    renameSync(path.join(staging, 'server'), path.join(staging, 'temporal-server'));
    renameSync(path.join(staging, 'sql'), path.join(staging, 'temporal-sql-tool'));
    rmSync(serverCacheDir, { recursive: true, force: true });
    renameSync(staging, serverCacheDir);
    buildSeconds = Math.round((Date.now() - started) / 1000);
    log(`built in ${buildSeconds} s`);
  }
  // The module is in Go's module cache after the build (go mod download finds it there at once).
  const moduleDir = JSON.parse(go(['mod', 'download', '-json', `go.temporal.io/server@v${temporalServerVersion}`])) as { Dir?: string };
  if (!moduleDir.Dir) throw new Error(`Go's module cache does not hold go.temporal.io/server@v${temporalServerVersion}; run go mod download for it.`);
  return { server, sqlTool, postgresSchema: path.join(moduleDir.Dir, 'schema', 'postgresql', 'v12'), buildSeconds };
}

if (require.main === module) {
  try {
    const built = ensureTemporalServer(console.log);
    console.log(`temporal-server: ${built.server}\ntemporal-sql-tool: ${built.sqlTool}\nPostgres schema: ${built.postgresSchema}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
