// Keyship in its production shape on one machine: a Postgres cluster holding Keyship's database and
// Temporal's two; the real Temporal server (built from the Go module) on it; nginx balancing two
// api processes; two worker processes; the SMTP capture and the PayPal simulator. The api and
// worker run the compiled dist/ on the pinned Node.js, as the image does. Each member can be
// SIGKILLed, drained and replaced, or replaced by a worker running another workflow bundle.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startCluster, ensureDatabase, type Cluster } from '../db/cluster';
import { migrate } from '../db/migrate';
import { createPool, type Pool } from '../db/pool';
import { startSimulator, type Simulator } from '../paypal/simulator/server';
import { ensureTemporalServer, type TemporalServerBuild } from '../temporal-server/server-build';
import { startSqlTemporal, type SqlTemporal } from '../temporal-server/sql-server';
import { smtpCapture, type SmtpCapture } from '../test/harness/smtp';
import { freePort } from '../test/harness/ports';
import { findNginx, requireProgram } from '../test/harness/programs';
import { receiverEmail, seedPackages } from '../test/invoice-fixtures';

const root = path.resolve(__dirname, '..');
const pinnedNode = path.join(root, 'node_modules', '.bin', 'node');

export const clusterAdminToken = 'cluster-admin-token-0123456789abcdef';

export interface Member {
  name: string;
  kind: 'api' | 'worker';
  child: ChildProcess;
  /** The api's port. */
  port?: number;
  /** Set before a stop the stack asked for; an exit without it is a finding. */
  expectedExit: boolean;
  /** The workflow bundle folder it was started with (WORKFLOW_BUNDLE_CACHE), if not dist's own. */
  bundleCache?: string;
}

export interface ClusterStack {
  build: TemporalServerBuild;
  temporal: SqlTemporal;
  /** The Postgres server's main process (its backends are its children). */
  postgresPid: number;
  client: Client;
  pool: Pool;
  smtp: SmtpCapture;
  sim: Simulator;
  /** nginx in front of the apis: what PayPal and buyers reach. */
  publicUrl: string;
  taskQueue: string;
  members: Member[];
  /** Members that died without being asked to, and their last output. */
  unexpectedExits: { name: string; code: number | null; signal: string | null; lastOutput: string }[];
  /** An api on the balancer's first (slot 0) or second (slot 1) upstream port. */
  startApi(name: string, slot: 0 | 1): Promise<Member>;
  startWorker(name: string, bundleCache?: string): Promise<Member>;
  /** SIGKILL: no drain, no goodbye. */
  kill(member: Member): Promise<void>;
  /** SIGTERM and wait for the drain (bounded by SHUTDOWN_GRACE and the worker's 15 s after it). */
  drain(member: Member): Promise<number | null>;
  /** Workers polling the task queue, by identity. */
  pollers(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startClusterStack(options: { logDir: string; log: (line: string) => void }): Promise<ClusterStack> {
  const { log } = options;
  mkdirSync(options.logDir, { recursive: true });
  const build = ensureTemporalServer(log);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyship-cluster-'));
  chmodSync(dir, 0o755); // the postgres user (as root) must reach its data folder
  const pgPort = await freePort();
  const cluster: Cluster = await startCluster({ dataDir: path.join(dir, 'pg'), port: pgPort, fast: true });
  // What has started so far stops again if a later step fails (stop() covers a stack that started).
  // Stopped in reverse order: the folder goes last.
  const startedParts: (() => Promise<void>)[] = [async () => rmSync(dir, { recursive: true, force: true }), () => cluster.stop()];
  try {
    return await startRest();
  } catch (error) {
    for (const stopPart of startedParts.reverse()) await stopPart().catch(() => undefined);
    throw error;
  }

  async function startRest(): Promise<ClusterStack> {
    await ensureDatabase(cluster.adminUrl, 'keyship');
    const databaseUrl = cluster.urlFor('keyship');
    await migrate(databaseUrl);
    const pool = createPool(databaseUrl, { max: 20 });
    await seedPackages(pool);

    const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
    const temporal = await startSqlTemporal({ build, postgres: { host: '127.0.0.1', port: pgPort, user: 'keyship' }, dir: options.logDir, ports, log, started: (server) => startedParts.push(() => server.stop()) });
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: temporal.namespace });

    const smtp = await smtpCapture();
    const apiPorts = [await freePort(), await freePort()];
    const nginx = await startBalancer(apiPorts, path.join(dir, 'nginx'));
    startedParts.push(() => nginx.stop());
    const publicUrl = `http://127.0.0.1:${nginx.port}`;
    // PayPal resends for days; the simulator's compressed schedule must outlast every outage here.
    const sim = await startSimulator({
      port: 0,
      ipnUrl: `${publicUrl}/paypal/ipn`,
      webhookUrl: `${publicUrl}/paypal/webhook`,
      business: receiverEmail,
      retry: { attempts: 40, firstDelayMs: 1_000, maxDelayMs: 8_000 },
    });
    const taskQueue = 'keyship';
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      SMTP_URL: smtp.url,
      PUBLIC_URL: publicUrl,
      API_HOST: '127.0.0.1',
      PAYPAL_MODE: 'simulator',
      PAYPAL_SIMULATOR_URL: sim.url,
      PAYPAL_RECEIVER_EMAIL: receiverEmail,
      ADMIN_TOKEN: clusterAdminToken,
      KEY_SECRET: 'cluster-key-secret-0123456789abcdef0123456789abcdef',
      FILES_DIR: path.join(dir, 'files'),
      DOWNLOAD_RATE_LIMIT: '0',
      WORKER_METRICS_PORT: '0',
      SHUTDOWN_GRACE: '5s',
      LOG_LEVEL: 'warn',
    };

    const members: Member[] = [];
    const unexpectedExits: ClusterStack['unexpectedExits'] = [];
    const logs: WriteStream[] = [];
    let stopping = false;

    function spawnMember(name: string, kind: 'api' | 'worker', extra: Record<string, string>, bundleCache?: string): Member {
      const out = createWriteStream(path.join(options.logDir, `${name}.log`), { flags: 'a' });
      logs.push(out);
      const child = spawn(pinnedNode, [path.join(root, 'dist', kind, 'main.js')], {
        cwd: root,
        env: { ...env, ...extra, ...(bundleCache ? { WORKFLOW_BUNDLE_CACHE: bundleCache } : {}) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const member: Member = { name, kind, child, expectedExit: false, bundleCache, port: extra.API_PORT ? Number(extra.API_PORT) : undefined };
      let lastOutput = '';
      const keep = (chunk: Buffer) => void (lastOutput = (lastOutput + chunk.toString()).slice(-2000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      child.stdout!.pipe(out, { end: false });
      child.stderr!.pipe(out, { end: false });
      child.once('exit', (code, signal) => {
        if (member.expectedExit || stopping) return;
        unexpectedExits.push({ name, code, signal, lastOutput });
        log(`${name} exited by itself (code ${code}, signal ${signal}); starting it again`);
        // As a process manager would: the same member again, in its place.
        setTimeout(() => {
          if (stopping) return;
          const again = spawnMember(name, kind, extra, bundleCache);
          members.splice(members.indexOf(member), 1, again);
        }, 1_000);
      });
      members.push(member);
      return member;
    }

    const stack: ClusterStack = {
      build,
      temporal,
      postgresPid: cluster.process.pid!,
      client,
      pool,
      smtp,
      sim,
      publicUrl,
      taskQueue,
      members,
      unexpectedExits,
      async startApi(name, slot) {
        const port = apiPorts[slot]!;
        const member = spawnMember(name, 'api', { API_PORT: String(port) });
        // An api on a busy machine: half a minute to answer /readyz (Postgres and Temporal reachable).
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)), 30_000, `${name} did not answer /readyz on port ${port} within 30 s; see ${name}.log`);
        return member;
      },
      async startWorker(name, bundleCache) {
        const before = new Set(await stack.pollers());
        const member = spawnMember(name, 'worker', {}, bundleCache);
        // Its identity is pid@host: polling means the worker is up (it loaded its bundle).
        await waitFor(async () => (await stack.pollers()).some((p) => p.startsWith(`${member.child.pid}@`) && !before.has(p)), 60_000, `${name} did not poll task queue ${taskQueue} within 60 s; see ${name}.log`);
        return member;
      },
      async kill(member) {
        member.expectedExit = true;
        const gone = new Promise((resolve) => member.child.once('exit', resolve));
        member.child.kill('SIGKILL');
        await gone;
        members.splice(members.indexOf(member), 1);
      },
      async drain(member) {
        member.expectedExit = true;
        const gone = new Promise<number | null>((resolve) => member.child.once('exit', (code) => resolve(code)));
        member.child.kill('SIGTERM');
        // SHUTDOWN_GRACE (5 s) and the worker's 15 s after it, with room for a busy machine.
        const code = await Promise.race([gone, new Promise<'late'>((r) => setTimeout(() => r('late'), 40_000))]);
        if (code === 'late') throw new Error(`${member.name} did not exit within 40 s of SIGTERM; see ${member.name}.log`);
        members.splice(members.indexOf(member), 1);
        return code;
      },
      async pollers() {
        try {
          const described = await client.workflowService.describeTaskQueue({ namespace: temporal.namespace, taskQueue: { name: taskQueue }, taskQueueType: 1 });
          return (described.pollers ?? []).map((p) => p.identity ?? '');
        } catch {
          return [];
        }
      },
      async stop() {
        stopping = true;
        await Promise.all(members.filter((m) => m.child.exitCode === null && m.child.signalCode === null).map((m) => new Promise((resolve) => m.child.once('exit', resolve).kill('SIGKILL'))));
        for (const out of logs) out.end();
        await sim.close();
        await smtp.close();
        await connection.close();
        await nginx.stop();
        await pool.end().catch(() => undefined);
        await temporal.stop();
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return stack;
  }
}

/**
 * nginx as the load balancer in front of the apis (docs/production.md's upstream, two servers): a
 * request whose api is gone goes to the other; the intake is idempotent, so a POST may be retried.
 */
async function startBalancer(apiPorts: number[], dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const binary = requireProgram(findNginx());
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const port = await freePort();
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  upstream keyship_api {
    ${apiPorts.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n    ')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://keyship_api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_connect_timeout 2s;
    }
  }
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const child = spawn(binary, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => resolve(socket.destroy() !== undefined));
        socket.once('error', () => resolve(false));
      }),
    10_000,
    `nginx did not listen on ${port} within 10 s; see ${dir}/error.log`,
  );
  return {
    port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export async function waitFor(check: () => Promise<boolean>, ms: number, failure: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
