// Child processes of `npm start`, each in its own process group so that Ctrl-C reaches only the
// launcher, which then stops them in order (api first, databases last) and waits for each.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Child {
  name: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface ChildOptions extends SpawnOptions {
  /** Each line of its output, besides printing it. */
  onLine?: (line: string) => void;
}

export function startChild(name: string, command: string, args: string[], options: ChildOptions = {}): Child {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        process.stdout.write(prefix + line + '\n');
        options.onLine?.(line);
      }
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const group = -child.pid;
      try {
        process.kill(group, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(group, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a TypeScript entry point with this Node.js and tsx, without an extra tsx process. */
export function startTsChild(name: string, entry: string, env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Child {
  return startChild(name, process.execPath, ['--import', 'tsx', entry], { env, onLine });
}
