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
  /** Percent of one core, per process, over the step. */
  cpu: Record<string, number>;
  saturated: boolean;
}

export interface Purchase {
  id: string;
  ok: boolean;
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
  /** Highest throughput any step reached. */
  saturation: number;
  /** A step at half the saturation rate. */
  half: StepResult;
}

/** Rates start, start×factor, ... until a step saturates (or maxSteps); then one step at half the best. */
export async function climb(o: LadderOptions & { start: number; factor: number; maxSteps: number }): Promise<LadderResult> {
  const steps: StepResult[] = [];
  let rate = o.start;
  for (let n = 0; n < o.maxSteps; n++) {
    const step = await runStep(rate, o);
    steps.push(step);
    if (step.saturated) break;
    rate = Math.round(rate * o.factor);
  }
  const saturation = Math.max(...steps.map((s) => s.throughput));
  o.log(`saturation ≈ ${saturation}/s; a step at half of it`);
  const half = await runStep(Math.max(1, Math.round(saturation / 2)), o);
  return { steps, saturation, half };
}
