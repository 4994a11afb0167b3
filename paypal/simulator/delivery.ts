// Delivers a message the way PayPal does: POST, and when the answer is not 200, again later with a
// doubling interval (PayPal's days compressed to minutes so a local run sees it). With a journal,
// every delivery still owed survives a restart of the simulator and resumes at its next attempt time.
import type { Journal, StoredDelivery } from './journal';

export interface RetrySchedule {
  attempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

/** 16 attempts over about 75 minutes: long enough to outlast a restart of the stack. */
export const defaultRetry: RetrySchedule = { attempts: 16, firstDelayMs: 2_000, maxDelayMs: 600_000 };

export type Delivery = Omit<StoredDelivery, 'nextAttemptAt'>;

export interface Waiting {
  key: string;
  url: string;
  attempts: number[];
  nextAttemptAt: string;
}

async function attempt(delivery: Delivery): Promise<number> {
  try {
    const response = await fetch(delivery.url, { method: 'POST', headers: delivery.headers, body: delivery.body, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

export class Deliverer {
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; delivery: Delivery; at: Date }>();
  private inFlight = new Set<Promise<unknown>>();
  constructor(
    private readonly retry: RetrySchedule,
    private readonly journal?: Journal,
  ) {}

  /** Resolves with the first attempt's status; later attempts run in the background. */
  async send(delivery: Delivery): Promise<number> {
    this.journal?.delivery({ ...delivery, nextAttemptAt: new Date() });
    const status = await this.track(attempt(delivery));
    this.settle(delivery, status);
    return status;
  }

  /** Picks up a delivery an earlier run still owed, at its next attempt time (at once if past). */
  resume(stored: StoredDelivery): void {
    if (!stored.nextAttemptAt) return;
    const { nextAttemptAt, ...delivery } = stored;
    this.schedule(delivery, nextAttemptAt);
  }

  /** Deliveries waiting for their next attempt, soonest first. */
  waiting(): Waiting[] {
    return [...this.timers.values()]
      .sort((a, b) => a.at.getTime() - b.at.getTime())
      .map(({ delivery, at }) => ({ key: delivery.key, url: delivery.url, attempts: [...delivery.attempts], nextAttemptAt: at.toISOString() }));
  }

  private settle(delivery: Delivery, status: number): void {
    delivery.attempts.push(status);
    const again = status !== 200 && delivery.attempts.length < this.retry.attempts;
    const delayMs = Math.min(this.retry.firstDelayMs * 2 ** (delivery.attempts.length - 1), this.retry.maxDelayMs);
    const at = again ? new Date(Date.now() + delayMs) : undefined;
    this.journal?.delivery({ ...delivery, nextAttemptAt: at });
    if (at) this.schedule(delivery, at);
  }

  private schedule(delivery: Delivery, at: Date): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(delivery.key);
        void this.track(attempt(delivery)).then((status) => this.settle(delivery, status));
      },
      Math.max(0, at.getTime() - Date.now()),
    );
    timer.unref();
    this.timers.set(delivery.key, { timer, delivery, at });
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
    return promise;
  }

  /** For tests: waits until no attempt is running (scheduled retries not included). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  stop(): void {
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
