// Delivers a message the way PayPal does: POST, and when the answer is not 200, again later with a
// doubling interval (compressed from PayPal's hours to seconds so a local run sees it).
export interface RetrySchedule {
  attempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetry: RetrySchedule = { attempts: 8, firstDelayMs: 2_000, maxDelayMs: 60_000 };

export interface Delivery {
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  /** HTTP status of each attempt; 0 when nothing answered. */
  attempts: number[];
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
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = new Set<Promise<unknown>>();
  constructor(private readonly retry: RetrySchedule) {}

  /** Resolves with the first attempt's status; later attempts run in the background. */
  async send(delivery: Delivery): Promise<number> {
    const first = this.track(attempt(delivery));
    const status = await first;
    delivery.attempts.push(status);
    if (status !== 200) this.later(delivery, this.retry.firstDelayMs);
    return status;
  }

  private later(delivery: Delivery, delayMs: number): void {
    if (delivery.attempts.length >= this.retry.attempts) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.track(attempt(delivery)).then((status) => {
        delivery.attempts.push(status);
        if (status !== 200) this.later(delivery, Math.min(delayMs * 2, this.retry.maxDelayMs));
      });
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
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
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
