// `npm start` as the tests run it: the launcher in its own data folder on free ports, its output
// kept, stopped with what Ctrl-C sends.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './ports';

const root = path.resolve(__dirname, '..', '..');

export type StackPorts = Record<'API_PORT' | 'POSTGRES_PORT' | 'TEMPORAL_PORT' | 'TEMPORAL_UI_PORT' | 'MAIL_UI_PORT' | 'MAIL_SMTP_PORT' | 'PAYPAL_SIMULATOR_PORT', number>;

/** A free port for each service of `npm start`. */
export async function stackPorts(): Promise<StackPorts> {
  return {
    API_PORT: await freePort(),
    POSTGRES_PORT: await freePort(),
    TEMPORAL_PORT: await freePort(),
    TEMPORAL_UI_PORT: await freePort(),
    MAIL_UI_PORT: await freePort(),
    MAIL_SMTP_PORT: await freePort(),
    PAYPAL_SIMULATOR_PORT: await freePort(),
  };
}

export interface Launched {
  process: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Ctrl-C, then its exit code; SIGKILL and an error if it has not stopped within 60 s. */
  stop(): Promise<number | null>;
}

/** Starts `npm start`'s launcher with KEYSHIP_DATA_DIR and the ports, and nothing else the environment would point elsewhere. */
export function launchStack(dataDir: string, ports: StackPorts): Launched {
  const env: NodeJS.ProcessEnv = { ...process.env, KEYSHIP_DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'ADMIN_TOKEN', 'PUBLIC_URL', 'PAYPAL_MODE']) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'launcher', 'start.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGINT'); // what Ctrl-C sends
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000))]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`the launcher did not stop within 60 s of Ctrl-C:\n${output}`);
      }
      return code;
    },
  };
}

/** Processes whose command line or environment names the data folder: what the launcher started. */
export function processesUnder(dir: string, match: (cmdline: string) => boolean = () => true): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if ((cmdline.includes(dir) || environ.includes(`KEYSHIP_DATA_DIR=${dir}`)) && match(cmdline)) found.push({ pid: Number(pid), cmdline });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
