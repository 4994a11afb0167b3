// Open-loop load at rising rates until saturation, shared by the floor and the purchase benchmarks.
// Each step starts purchases at a fixed rate for a few seconds whatever the answers (as PayPal
// does: it does not wait for one buyer before the next), then waits until each is delivered.
// A step's throughput is deliveries per second between its first and last delivery; a step
// saturates when that falls below 85% of the offered rate or deliveries fall seconds behind.
import { cpuMeter } from './proc-stats';

export interface StepResult {
  offered: number;
  started: number;
  delivered: number;
  /** Deliveries per second. */
  throughput: number;
  ackP50: number;
  ackP99: number;
  /** Start of the purchase to its delivery, ms. */
  e2eP50: number;
  e2eP99: number;
  /** Answers other than success. */
  failures: number;
  /** The server's own time per phase (its Server-Timing), p50 and p99 in ms, when it reports one. */
  phases?: Record<string, { p50: number; p99: number }>;
  /** Percent of one core, per process, over the step. */
  cpu: Record<string, number>;
  saturated: boolean;
}

export interface Purchase {
  id: string;
  ok: boolean;
  /** Phase → ms, from the answer's Server-Timing header. */
  phases?: Record<string, number>;
}

/** `store;dur=2.1, verify;dur=3.4` → { store: 2.1, verify: 3.4 }. */
export function parseServerTiming(header: string | null): Record<string, number> | undefined {
  if (!header) return undefined;
  const phases: Record<string, number> = {};
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.trim().split(';');
    const dur = params.map((p) => /^dur=([\d.]+)$/.exec(p.trim())?.[1]).find(Boolean);
    if (name && dur) phases[name] = Number(dur);
  }
  return phases;
}

export interface LadderOptions {
  /** Starts purchase number i; resolves when it is acknowledged. */
  fire: (i: number) => Promise<Purchase>;
  /** performance.now() of the delivery of a purchase, once it happened. */
  deliveredAt: (id: string) => number | undefined;
  pids: Record<string, number>;
  log: (line: string) => void;
  seconds: number;
  /** How long a step may take to deliver its last purchase after the last start. */
  drainMs: number;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! * 10) / 10;
}

let sequence = 0;

export async function runStep(rate: number, o: LadderOptions): Promise<StepResult> {
  const count = Math.max(1, Math.round(rate * o.seconds));
  const meter = cpuMeter(o.pids);
  const t0 = performance.now();
  const starts = new Map<string, number>();
  const acks: number[] = [];
  const phaseSamples = new Map<string, number[]>();
  let failures = 0;
  const pending: Promise<void>[] = [];
  for (let k = 0; k < count; k++) {
    const due = t0 + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const i = sequence++;
    const at = performance.now();
    pending.push(
      o.fire(i).then(
        (p) => {
          acks.push(performance.now() - at);
          starts.set(p.id, at);
          if (!p.ok) failures++;
          for (const [phase, ms] of Object.entries(p.phases ?? {})) phaseSamples.set(phase, [...(phaseSamples.get(phase) ?? []), ms]);
        },
        () => {
          acks.push(performance.now() - at);
          failures++;
        },
      ),
    );
  }
  await Promise.all(pending);
  const deadline = performance.now() + o.drainMs;
  const undelivered = () => [...starts.keys()].filter((id) => o.deliveredAt(id) === undefined).length;
  while (undelivered() > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const cpu = meter.stop();
  const done = [...starts].flatMap(([id, start]) => {
    const at = o.deliveredAt(id);
    return at === undefined ? [] : [{ start, at }];
  });
  const first = Math.min(...done.map((d) => d.at));
  const last = Math.max(...done.map((d) => d.at));
  const throughput = done.length > 1 ? ((done.length - 1) * 1000) / (last - first) : 0;
  const e2e = done.map((d) => d.at - d.start);
  const result: StepResult = {
    offered: rate,
    started: count,
    delivered: done.length,
    throughput: Math.round(throughput * 10) / 10,
    ackP50: percentile(acks, 50),
    ackP99: percentile(acks, 99),
    e2eP50: percentile(e2e, 50),
    e2eP99: percentile(e2e, 99),
    failures,
    ...(phaseSamples.size ? { phases: Object.fromEntries([...phaseSamples].map(([phase, v]) => [phase, { p50: percentile(v, 50), p99: percentile(v, 99) }])) } : {}),
    cpu,
    saturated: false,
  };
  result.saturated = done.length < count || throughput < 0.85 * rate || result.e2eP50 > 3000;
  o.log(
    `${rate}/s offered: ${result.throughput}/s delivered (${done.length}/${count}), ack p50 ${result.ackP50} ms p99 ${result.ackP99} ms, ` +
      `delivery p50 ${result.e2eP50} ms p99 ${result.e2eP99} ms${failures ? `, ${failures} failed` : ''}${result.saturated ? ' — saturated' : ''}`,
  );
  return result;
}

export interface LadderResult {
  steps: StepResult[];
  /** Highest throughput any step reached (undefined with --steady: no ladder climbed). */
  saturation?: number;
  /** A longer step at half the saturation rate: its p99 is over hundreds of answers, not a few dozen. */
  half?: StepResult;
  /** A longer step at the same fixed rate in every run and scenario: what each unit costs in CPU. */
  steady: StepResult;
}

/** The fixed rate and length of the steady step: low enough for any scenario here, long enough to average. */
export const steadyRate = 8;
const steadySeconds = 20;
const halfSeconds = 30;

/** `npm run bench -- floor purchases --steady`: only the steady step, a quick before/after of CPU per purchase. */
export const steadyOnly = () => process.argv.includes('--steady');

/** Milliseconds of CPU per delivered unit, per process (without "others"), and their total. */
export function cpuPerUnit(step: StepResult): Record<string, number> {
  const perUnit = Object.entries(step.cpu)
    .filter(([name]) => name !== 'others')
    .map(([name, percent]) => [name, Math.round((percent * 10) / Math.max(step.throughput, 0.1))] as const);
  return { ...Object.fromEntries(perUnit), total: perUnit.reduce((sum, [, ms]) => sum + ms, 0) };
}

export const cpuPerUnitLine = (step: StepResult) =>
  Object.entries(cpuPerUnit(step))
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join(', ');

/**
 * Rates start, start×factor, ... until a step saturates (or maxSteps); then a longer step at half
 * the best; then the steady step. With --steady, the steady step alone.
 */
export async function climb(o: LadderOptions & { start: number; factor: number; maxSteps: number }): Promise<LadderResult> {
  const steadyStep = async () => {
    o.log(`steady step: ${steadyRate}/s for ${steadySeconds} s`);
    return runStep(steadyRate, { ...o, seconds: steadySeconds });
  };
  if (steadyOnly()) {
    // A short warm-up first, so the JIT and the connection pools are not part of the figure.
    await runStep(steadyRate, { ...o, seconds: 3 });
    return { steps: [], steady: await steadyStep() };
  }
  const steps: StepResult[] = [];
  let rate = o.start;
  for (let n = 0; n < o.maxSteps; n++) {
    const step = await runStep(rate, o);
    steps.push(step);
    if (step.saturated) break;
    rate = Math.round(rate * o.factor);
  }
  const saturation = Math.max(...steps.map((s) => s.throughput));
  o.log(`saturation ≈ ${saturation}/s; ${halfSeconds} s at half of it`);
  const half = await runStep(Math.max(1, Math.round(saturation / 2)), { ...o, seconds: halfSeconds });
  return { steps, saturation, half, steady: await steadyStep() };
}
