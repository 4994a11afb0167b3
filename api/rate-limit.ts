// A per-address token bucket for /d/. Written here rather than taken from a library because it is
// thirty lines, needs no store (one process's memory is enough: a key is 256 random bits, so the
// limiter only has to stop a flood, not be exact across replicas), and its cost sits on the hot
// path of every download request. N replicas allow N times the rate; say so when sizing it.

export interface RateLimiter {
  /** Takes `cost` tokens from the address's bucket; false (and nothing taken) when it has too few. */
  take(address: string, cost?: number): boolean;
  /** Takes `cost` more even below zero (a guessed key): the address waits until it has paid it off. */
  penalise(address: string, cost: number): void;
  /** Seconds until `cost` tokens are back, for Retry-After. */
  retryAfterSeconds(address: string, cost?: number): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** `perMinute` requests a minute per address, in bursts of up to `perMinute`. 0 turns it off. */
export function createRateLimiter(perMinute: number, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const perMs = perMinute / 60_000;
  let sweptAt = now();

  const refill = (address: string): Bucket => {
    const t = now();
    // A full bucket is the same as no bucket: drop those now and then so the map stays small.
    if (t - sweptAt > 60_000) {
      for (const [a, b] of buckets) if (b.tokens + (t - b.at) * perMs >= perMinute) buckets.delete(a);
      sweptAt = t;
    }
    const bucket = buckets.get(address) ?? { tokens: perMinute, at: t };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (t - bucket.at) * perMs);
    bucket.at = t;
    buckets.set(address, bucket);
    return bucket;
  };

  return {
    take(address, cost = 1) {
      if (perMinute <= 0) return true;
      const bucket = refill(address);
      if (bucket.tokens < cost) return false;
      bucket.tokens -= cost;
      return true;
    },
    penalise(address, cost) {
      if (perMinute <= 0) return;
      const bucket = refill(address);
      bucket.tokens = Math.max(-perMinute, bucket.tokens - cost);
    },
    retryAfterSeconds(address, cost = 1) {
      if (perMinute <= 0) return 0;
      const bucket = refill(address);
      return Math.max(1, Math.ceil((Math.min(cost, perMinute) - bucket.tokens) / perMs / 1000));
    },
  };
}
