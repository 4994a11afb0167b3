// A TypeScript entry point run as its own Node process (through tsx), so the load generator does
// not share its event loop or its CPU account: the api, the Keyship worker, the floor worker.
// Ready when a line of its stdout matches. Its output goes to a log file (as production logs go
// to a file or the journal, and reading them here would cost the load generator CPU), unless
// `onLine` wants every line (the floor worker reports deliveries there).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const root = path.resolve(__dirname, '..');

export interface NodeProcess {
  pid: number;
  /** Asks it to stop (SIGTERM: the worker drains), then kills it after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface NodeProcessOptions {
  /** Path from the repository root, e.g. worker/main.ts. */
  script: string;
  env: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  ready: RegExp;
  /** Where stdout and stderr go when there is no onLine. */
  logFile?: string;
  onLine?: (line: string) => void;
  timeoutMs?: number;
}

export async function startNodeProcess(options: NodeProcessOptions): Promise<NodeProcess> {
  const toFile = !options.onLine && options.logFile !== undefined;
  const fd = toFile ? openSync(options.logFile!, 'a') : undefined;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', path.join(root, options.script)], {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
  });
  if (fd !== undefined) closeSync(fd);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const output = () => (toFile ? readFileSync(options.logFile!, 'utf8').slice(-4000) : stderr).trim();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timeoutMs = options.timeoutMs ?? 90_000;
  await new Promise<void>((resolve, reject) => {
    let ready = false;
    const fail = (why: string) => {
      clearTimeout(timer);
      clearInterval(poll);
      if (!ready) reject(new Error(`${options.script} ${why}: ${output()}`));
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`was not ready within ${timeoutMs / 1000} s`);
    }, timeoutMs);
    const isReady = () => {
      ready = true;
      clearTimeout(timer);
      clearInterval(poll);
      resolve();
    };
    const poll = setInterval(() => {
      if (toFile && !ready && options.ready.test(readFileSync(options.logFile!, 'utf8'))) isReady();
    }, 100);
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (ready) options.onLine?.(line);
        else if (options.ready.test(line)) isReady();
      });
    }
    void exited.then(() => fail(`exited with code ${child.exitCode}`));
  });
  return {
    pid: child.pid!,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
