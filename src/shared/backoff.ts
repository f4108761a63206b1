/**
 * Every retry schedule of the code base, on one exponential formula ({@linkcode backoffCeiling}):
 * the full-jitter backoff of protocol 8 ({@linkcode Backoff}), the slow schedule after the
 * server refused the key ({@linkcode AuthRetrySchedule}), and the trading workload's restart
 * delay (`trading/restart_backoff.ts`). A change to how long anything waits after a failure
 * starts here.
 *
 * @module
 */
import {
  AUTH_RETRY_FIRST_MS,
  AUTH_RETRY_MAX_MS,
  BACKOFF_BASE_MS,
  BACKOFF_CAP_MS,
  BACKOFF_RESET_AFTER_MS,
} from "../protocol/constants.ts";

/** The bounds of {@linkcode backoffCeiling}. */
export interface BackoffBounds {
  /** The first step (attempt 0). */
  baseMs: number;
  /** The longest step. */
  capMs: number;
}

/**
 * The exponential step `min(capMs, baseMs * 2^attempt)` for `attempt` 0, 1, 2, …; the
 * exponent stops growing at 30, where any sane cap has long won.
 *
 * @example
 * ```ts
 * backoffCeiling(0, { baseMs: 1000, capMs: 60_000 }); // 1000
 * backoffCeiling(3, { baseMs: 1000, capMs: 60_000 }); // 8000
 * backoffCeiling(9, { baseMs: 1000, capMs: 60_000 }); // 60000
 * ```
 */
export function backoffCeiling(attempt: number, bounds: BackoffBounds): number {
  return Math.min(bounds.capMs, bounds.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

/** Options of {@linkcode Backoff}. */
export interface BackoffOptions {
  /** First step of the exponent. @default {BACKOFF_BASE_MS} */
  baseMs?: number;
  /** Longest single wait. @default {BACKOFF_CAP_MS} */
  capMs?: number;
  /** Healthy time after which the attempt count starts over. @default {BACKOFF_RESET_AFTER_MS} */
  resetAfterMs?: number;
  /** Uniform random source in [0, 1). @default {Math.random} */
  random?: () => number;
  /** Clock in Unix milliseconds. @default {Date.now} */
  now?: () => number;
}

/**
 * Full-jitter backoff: the n-th wait is `random(0, min(cap, base * 2^n))`. Call
 * {@linkcode Backoff.healthy} whenever the connection works; after `resetAfterMs` of
 * uninterrupted health the attempt count starts over.
 *
 * @example
 * ```ts
 * const backoff = new Backoff();
 * while (!(await tryConnect())) await abortableDelay(backoff.next(), signal); // shared/delay.ts
 * ```
 */
export class Backoff {
  #base: number;
  #cap: number;
  #resetAfter: number;
  #random: () => number;
  #now: () => number;
  #attempt = 0;
  #healthySince: number | undefined;

  /** Creates a schedule at attempt 0. */
  constructor(options: BackoffOptions = {}) {
    this.#base = options.baseMs ?? BACKOFF_BASE_MS;
    this.#cap = options.capMs ?? BACKOFF_CAP_MS;
    this.#resetAfter = options.resetAfterMs ?? BACKOFF_RESET_AFTER_MS;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    if (!(this.#base > 0) || !(this.#cap >= this.#base)) {
      throw new RangeError(`Backoff needs 0 < baseMs <= capMs, got ${this.#base}/${this.#cap}`);
    }
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The wait before the next try, in milliseconds; counts one failure. */
  next(): number {
    this.#healthySince = undefined;
    const ceiling = backoffCeiling(this.#attempt, { baseMs: this.#base, capMs: this.#cap });
    this.#attempt++;
    return Math.floor(this.#random() * ceiling);
  }

  /**
   * The wait after a retryable failure: the server's `Retry-After` when it sent one (it wins,
   * protocol 8), else the next jittered wait ({@linkcode Backoff.next}), at most `capMs`.
   */
  retryWait(retryAfterMs: number | undefined, capMs: number = Infinity): number {
    return retryAfterMs ?? Math.min(this.next(), capMs);
  }

  /** Records that the connection works now; resets after `resetAfterMs` of this. */
  healthy(): void {
    const now = this.#now();
    if (this.#healthySince === undefined) this.#healthySince = now;
    else if (now - this.#healthySince >= this.#resetAfter) this.#attempt = 0;
  }

  /** Starts over at attempt 0. */
  reset(): void {
    this.#attempt = 0;
    this.#healthySince = undefined;
  }
}

/**
 * The slow retry schedule after 401/403 (protocol 8): 5 min, doubling to 60 min, without
 * jitter so that `status` can say exactly when the next try is.
 */
export class AuthRetrySchedule {
  #attempt = 0;
  #first: number;
  #max: number;

  /** Creates a schedule; the bounds are the protocol's unless given. */
  constructor(options: { firstMs?: number; maxMs?: number } = {}) {
    this.#first = options.firstMs ?? AUTH_RETRY_FIRST_MS;
    this.#max = options.maxMs ?? AUTH_RETRY_MAX_MS;
  }

  /** The wait before the next try after an auth failure. */
  next(): number {
    const wait = backoffCeiling(this.#attempt, { baseMs: this.#first, capMs: this.#max });
    this.#attempt++;
    return wait;
  }

  /** Starts over (after a successful authentication). */
  reset(): void {
    this.#attempt = 0;
  }
}
