// Kept, not promise-batcher or dataloader: the first waits a timer before every batch (a lone request waits for it), the second runs batches without a bound on how many at once.
// Turns many concurrent single-item calls into few batched ones: items that arrive while a batch
// is being collected or while the allowed number of batches is already running wait, and then go
// together in the next batch. Under load one Postgres statement (and one commit) serves dozens of
// download requests; alone, a request waits only for the current event-loop turn to end: a batch
// leaves as soon as there is room for it, so batches grow only when the database is busy (or, with
// gatherMs, after a short wait, for work that no response waits on).

export interface BatchQueueOptions {
  /** Batches running at once (each holds one pooled connection while it runs). */
  maxInFlight: number;
  /** Items in one batch at most. */
  maxItems: number;
  /**
   * Milliseconds a batch waits for company after its first item, for work nobody waits on (the
   * settlements): fewer, larger statements. 0 (the default): only the rest of this event-loop turn.
   */
  gatherMs?: number;
}

export interface BatchQueue<I, O> {
  (item: I): Promise<O>;
  /** Items waiting or running, for tests and shutdown. */
  pending(): number;
  /** Resolves once everything queued before the call has run (or failed). */
  drained(): Promise<void>;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/**
 * `run` gets the items of one batch and returns one result per item, in the same order. If it
 * throws, every item of that batch is rejected with the error.
 */
export function createBatchQueue<I, O>(run: (items: I[]) => Promise<O[]>, options: BatchQueueOptions): BatchQueue<I, O> {
  let queue: Waiting<I, O>[] = [];
  let inFlight = 0;
  let running = 0;
  let scheduled = false;
  let idle: (() => void)[] = [];

  const settleIdle = () => {
    if (queue.length > 0 || inFlight > 0) return;
    const waiters = idle;
    idle = [];
    for (const resolve of waiters) resolve();
  };

  const launch = () => {
    scheduled = false;
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch = queue.length <= options.maxItems ? queue : queue.slice(0, options.maxItems);
      queue = queue.length <= options.maxItems ? [] : queue.slice(options.maxItems);
      inFlight++;
      running += batch.length;
      void runBatch(batch);
    }
    settleIdle();
  };

  const runBatch = async (batch: Waiting<I, O>[]) => {
    try {
      const results = await run(batch.map((w) => w.item));
      if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} returned ${results.length} results`);
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      inFlight--;
      running -= batch.length;
      launch();
    }
  };

  const enqueue = ((item: I) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      // Wait for the rest of this turn of the event loop: requests parsed together go together.
      if (!scheduled && inFlight < options.maxInFlight) {
        scheduled = true;
        if (options.gatherMs) setTimeout(launch, options.gatherMs);
        else setImmediate(launch);
      }
    })) as BatchQueue<I, O>;
  enqueue.pending = () => queue.length + running;
  enqueue.drained = () =>
    queue.length === 0 && inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve));
  return enqueue;
}
