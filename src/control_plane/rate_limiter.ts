/** Token-bucket rate limiting per key (protocol 1: 429 with `Retry-After`). */

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens added per second; 0 or less disables limiting. @default {20} */
  ratePerSecond?: number;
  /** Bucket size: requests allowed in a burst. @default {2 * ratePerSecond, at least 1} */
  burst?: number;
  /** Clock in ms. @default {Date.now} */
  now?: () => number;
  /** Buckets kept before idle ones are dropped. @default {10000} */
  maxBuckets?: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * One token bucket per key. `take(key)` returns 0 when the request may go ahead, else the
 * seconds to wait (for `Retry-After`).
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ ratePerSecond: 5, burst: 10 });
 * const wait = limiter.take("key-id");
 * if (wait > 0) return new Response(null, { status: 429, headers: { "Retry-After": `${wait}` } });
 * ```
 */
export class RateLimiter {
  #rate: number;
  #burst: number;
  #now: () => number;
  #maxBuckets: number;
  #buckets = new Map<string, Bucket>();

  /** Creates a limiter. */
  constructor(options: RateLimiterOptions = {}) {
    this.#rate = options.ratePerSecond ?? 20;
    this.#burst = Math.max(1, options.burst ?? Math.ceil(this.#rate * 2));
    this.#now = options.now ?? Date.now;
    this.#maxBuckets = options.maxBuckets ?? 10_000;
  }

  /** Takes one token for `key`; returns 0 if allowed, else whole seconds to wait (≥ 1). */
  take(key: string): number {
    if (this.#rate <= 0) return 0;
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxBuckets) this.#evictFull(now);
      bucket = { tokens: this.#burst, updatedAt: now };
      this.#buckets.set(key, bucket);
    }
    const elapsed = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(this.#burst, bucket.tokens + elapsed * this.#rate);
    bucket.updatedAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }

  #evictFull(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      const refilled = bucket.tokens + (now - bucket.updatedAt) / 1000 * this.#rate;
      if (refilled >= this.#burst) this.#buckets.delete(key);
    }
    // Still full: drop the oldest entry rather than grow without bound.
    if (this.#buckets.size >= this.#maxBuckets) {
      const first = this.#buckets.keys().next();
      if (!first.done) this.#buckets.delete(first.value);
    }
  }
}
