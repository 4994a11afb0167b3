// The production tests' pieces: the real api and worker entry points as child processes (their
// stdout and stderr kept line by line), a purchase's fixtures, and a TCP relay that can hold or
// cut a connection, standing between a process and Postgres or SMTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

export interface KeyshipProcess {
  name: string;
  child: ChildProcess;
  /** Every line written to stdout and stderr, in order. */
  lines: { stream: 'stdout' | 'stderr'; text: string }[];
  /** The stdout lines that are JSON objects. */
  json(): Record<string, unknown>[];
  waitForLine(match: (line: string) => boolean, ms: number, what: string): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** SIGKILL if still running (cleanup after a failed test). */
  kill(): void;
  /** Writes every line to .test-artifacts/<label>-<name>.log, for a person to read after a run. */
  saveLog(label: string): void;
}

/** The pinned Node.js 24 (devDependencies.node), which runs the compiled dist/ as production does. */
export const pinnedNode = path.join(root, 'node_modules', '.bin', 'node');

/**
 * Runs api/main.ts or worker/main.ts with exactly the given environment (plus PATH); `compiled`
 * runs dist/<name>/main.js (`npm run build`) on the pinned Node.js with no tsx, as production does.
 */
export function startKeyship(name: 'api' | 'worker', env: Record<string, string>, options: { compiled?: boolean } = {}): KeyshipProcess {
  const args = options.compiled ? [path.join(root, 'dist', name, 'main.js')] : ['--import', 'tsx', path.join(root, name, 'main.ts')];
  const child = spawn(options.compiled ? pinnedNode : process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: KeyshipProcess['lines'] = [];
  const listeners = new Set<() => void>();
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream]!.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) if (text.trim()) lines.push({ stream, text });
      for (const listener of listeners) listener();
    });
    child[stream]!.on('end', () => {
      if (partial.trim()) lines.push({ stream, text: partial });
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    name,
    child,
    lines,
    json: () =>
      lines.flatMap(({ stream, text }) => {
        if (stream !== 'stdout') return [];
        try {
          const value: unknown = JSON.parse(text);
          return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      }),
    waitForLine(match, ms, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((l) => match(l.text));
          if (!found) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found.text);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${name} never logged ${what} within ${ms} ms; its output:\n${lines.map((l) => l.text).join('\n')}`));
        }, ms);
        listeners.add(check);
        void exited.then(() => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`${name} exited before logging ${what}; its output:\n${lines.map((l) => l.text).join('\n')}`));
        });
        check();
      });
    },
    exited,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    saveLog(label) {
      const dir = path.join(root, '.test-artifacts');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${label}-${name}.log`), lines.map((l) => (l.stream === 'stderr' ? `[stderr] ${l.text}` : l.text)).join('\n') + '\n');
    },
  };
}

export async function waitForHttp(url: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Secrets a test hands to the processes and later looks for in their logs. */
export function testSecrets() {
  return { ADMIN_TOKEN: `admin-${randomBytes(16).toString('hex')}`, KEY_SECRET: randomBytes(32).toString('hex') };
}

/** The files of test/invoice-fixtures' GUIDE-1 package, with guide.pdf of the given size. */
export function writeGuideFiles(filesDir: string, guideBytes: number): void {
  mkdirSync(path.join(filesDir, 'guide'), { recursive: true });
  const block = randomBytes(1 << 20);
  const content = Buffer.alloc(guideBytes);
  for (let at = 0; at < guideBytes; at += block.length) block.copy(content, at, 0, Math.min(block.length, guideBytes - at));
  writeFileSync(path.join(filesDir, 'guide', 'guide.pdf'), content);
  writeFileSync(path.join(filesDir, 'guide', 'extras.zip'), randomBytes(2048));
}

export interface TcpRelay {
  port: number;
  /** From now on nothing a client sends is forwarded (on new and open connections) until release(). */
  hold(): void;
  release(): void;
  /** Connections whose client has sent something that is being held. */
  held(): number;
  /** Stops listening and drops every connection: the server behind is unreachable. */
  cut(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP relay on 127.0.0.1 to 127.0.0.1:targetPort; holding works on pooled connections too. */
export async function tcpRelay(targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  const pending = new Map<net.Socket, Buffer[]>();
  let holding = false;
  const flush = (client: net.Socket, upstream: net.Socket) => {
    for (const chunk of pending.get(client) ?? []) upstream.write(chunk);
    pending.delete(client);
  };
  const pairs = new Map<net.Socket, net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
    }
    pairs.set(client, upstream);
    client.on('close', () => {
      sockets.delete(client);
      pairs.delete(client);
      pending.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on('data', (chunk: Buffer) => {
      if (holding) pending.set(client, [...(pending.get(client) ?? []), chunk]);
      else upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  return {
    port: (server.address() as net.AddressInfo).port,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const [client, upstream] of pairs) flush(client, upstream);
    },
    held: () => pending.size,
    cut: close,
    close,
  };
}
