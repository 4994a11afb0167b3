// Keeps the services of `npm start` running: one that exits unexpectedly is reported in one line
// (which, how, its last lines), restarted with a growing delay, and after repeated failures in a
// short time the whole stack is stopped in order with a sentence on what to do.
import type { ChildProcess } from 'node:child_process';

export interface Started {
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface ServiceSpec<T extends Started = Started> {
  name: string;
  /** Starts the service; `line` records its output for the report when it dies. */
  start(line: (text: string) => void): Promise<T>;
}

export interface SupervisorOptions {
  log: (line: string) => void;
  /** Called once when a service failed too often; the launcher stops everything. */
  giveUp: (name: string, why: string) => void;
  /** Called when a service dies or is back, with every service's state. */
  changed?: (states: Record<string, ServiceState>) => void;
  /** Delays before restart n (the last repeats). */
  backoffMs?: number[];
  /** More unexpected exits than this within windowMs and the supervisor gives up. */
  maxFailures?: number;
  windowMs?: number;
}

const tailLines = 8;

export type ServiceState = 'running' | 'restarting' | 'failed';

class Supervised {
  private current?: Started;
  private readonly tail: string[] = [];
  private failures: number[] = [];
  private timer?: NodeJS.Timeout;
  stopped = false;
  state: ServiceState = 'running';

  constructor(
    readonly spec: ServiceSpec,
    private readonly options: Required<SupervisorOptions>,
    private readonly changed: () => void,
  ) {}

  async launch(): Promise<Started> {
    const started = await this.spec.start((text) => {
      this.tail.push(text);
      if (this.tail.length > tailLines) this.tail.shift();
    });
    this.current = started;
    this.state = 'running';
    started.process.once('exit', (code, signal) => {
      if (this.stopped || this.current !== started) return;
      this.crashed(signal ? `killed by ${signal}` : `exit code ${code}`);
    });
    return started;
  }

  private crashed(how: string): void {
    const now = Date.now();
    this.failures = [...this.failures.filter((t) => now - t < this.options.windowMs), now];
    const last = this.tail.length ? ` Its last lines:\n${this.tail.map((l) => `    ${l}`).join('\n')}` : '';
    this.options.log(`${this.spec.name} exited unexpectedly (${how}).${last}`);
    this.tail.length = 0;
    if (this.failures.length > this.options.maxFailures) {
      this.state = 'failed';
      this.options.giveUp(this.spec.name, `${this.spec.name} failed ${this.failures.length} times within ${Math.round(this.options.windowMs / 1000)} s`);
      return;
    }
    const delay = this.options.backoffMs[Math.min(this.failures.length - 1, this.options.backoffMs.length - 1)]!;
    this.state = 'restarting';
    this.changed();
    this.options.log(`restarting ${this.spec.name} in ${delay / 1000} s (failure ${this.failures.length} of at most ${this.options.maxFailures} within ${Math.round(this.options.windowMs / 1000)} s)`);
    this.timer = setTimeout(() => void this.restart(now), delay);
  }

  private async restart(diedAt: number): Promise<void> {
    if (this.stopped) return;
    try {
      await this.launch();
      this.options.log(`${this.spec.name} is back, ${((Date.now() - diedAt) / 1000).toFixed(1)} s after it stopped`);
      this.changed();
    } catch (error) {
      if (this.stopped) return;
      this.tail.push(error instanceof Error ? error.message : String(error));
      this.crashed('could not start again');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current?.stop();
  }
}

export class Supervisor {
  private readonly services: Supervised[] = [];
  private readonly options: Required<SupervisorOptions>;

  constructor(options: SupervisorOptions) {
    this.options = { backoffMs: [1_000, 2_000, 4_000, 8_000, 16_000], maxFailures: 5, windowMs: 120_000, changed: () => undefined, ...options };
  }

  /** Starts a service and watches it from then on; answers its first start. A failure to start the first time is the caller's. */
  async start<T extends Started>(spec: ServiceSpec<T>): Promise<T> {
    const service = new Supervised(spec, this.options, () => this.options.changed(this.states()));
    const started = (await service.launch()) as T;
    this.services.push(service);
    return started;
  }

  has(name: string): boolean {
    return this.services.some((s) => s.spec.name === name);
  }

  /** Each service's state, for the start-up list and for tests. */
  states(): Record<string, ServiceState> {
    return Object.fromEntries(this.services.map((s) => [s.spec.name, s.state]));
  }

  /** Stops the services in the reverse of their start order, each waited for. */
  async stopAll(report: (name: string, error?: unknown) => void): Promise<void> {
    for (const service of this.services) service.stopped = true;
    for (const service of [...this.services].reverse()) {
      try {
        await service.stop();
        report(service.spec.name);
      } catch (error) {
        report(service.spec.name, error);
      }
    }
  }
}
