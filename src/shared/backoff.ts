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
import { abortableDelay } from "./delay.ts";

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
  /**
   * When the server was last reachable (protocol 8, v1.1): with it, no wait is longer than
   * {@linkcode outageCapMs} of the time since then. @default none (the exponent alone)
   */
  reachability?: Reachability;
}

/** The least bound {@linkcode outageCapMs} gives, in ms (protocol 8, v1.1). */
export const OUTAGE_CAP_FLOOR_MS = 1_000;

/**
 * The longest wait after a failure when the server was last reachable `sinceReachableMs`
 * ago (protocol 8, v1.1): half of that, and never under 1 s. So an agent is back within about
 * half an outage's length after it ends (a 10 s outage: within 5 s), however many failures it
 * counted: the exponent alone would let a 10 s outage draw waits of 16–32 s.
 *
 * @example
 * ```ts
 * outageCapMs(10_000); // 5000
 * outageCapMs(600); // 1000
 * ```
 */
export function outageCapMs(sinceReachableMs: number): number {
  return Math.max(OUTAGE_CAP_FLOOR_MS, Math.floor(Math.max(0, sinceReachableMs) / 2));
}

/**
 * When the server was last reachable, shared by every loop that talks to it (register,
 * heartbeat, the senders, the WebSocket): any successful HTTP answer or a WebSocket welcome
 * or pong is {@linkcode Reachability.reached}; a failure that calls for a retry is
 * {@linkcode Reachability.lost}. Each loop's {@linkcode Backoff} caps its waits from it
 * ({@linkcode outageCapMs}), and a loop waiting out a failure ({@linkcode Reachability.wait})
 * tries again as soon as another loop reached the server, so the WebSocket reconnects as soon
 * as a heartbeat goes through, not on its own schedule.
 *
 * Before anything was reached, the reference is when this object was made (the agent's
 * start): an agent started during an outage comes back as quickly as one that saw it begin.
 */
export class Reachability {
  #now: () => number;
  #lastReachableAt: number;
  #down = false;
  #waiters = new Set<() => void>();

  /** Starts "reachable now" (see the class note). */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#lastReachableAt = this.#now();
  }

  /** When the server was last known reachable, in Unix ms. */
  get lastReachableAt(): number {
    return this.#lastReachableAt;
  }

  /** Whether the last word was a failure ({@linkcode Reachability.lost}, no success since). */
  get down(): boolean {
    return this.#down;
  }

  /** The longest wait a failure may draw now ({@linkcode outageCapMs}). */
  capMs(): number {
    return outageCapMs(this.#now() - this.#lastReachableAt);
  }

  /** The server answered (a 2xx, a WebSocket welcome or pong): wakes every loop waiting out a failure. */
  reached(): void {
    this.#lastReachableAt = Math.max(this.#lastReachableAt, this.#now());
    if (!this.#down) return;
    this.#down = false;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * A try failed in a way that calls for a retry. `aliveUntil` is when the server was last
   * seen working, when the failure is the end of a connection that worked until then (a
   * WebSocket that was open until the server went away).
   */
  lost(aliveUntil?: number): void {
    if (aliveUntil !== undefined && Number.isFinite(aliveUntil)) {
      this.#lastReachableAt = Math.max(this.#lastReachableAt, Math.min(aliveUntil, this.#now()));
    }
    this.#down = true;
  }

  /**
   * Waits out the wait after a failure to reach the server: in full when the server asked for
   * it (`retryAfterMs`, protocol 8), else as {@linkcode Reachability.wait} (v1.1). Resolves
   * whether it ended early.
   */
  waitOut(ms: number, retryAfterMs: number | undefined, signal?: AbortSignal): Promise<boolean> {
    return retryAfterMs === undefined ? this.wait(ms, signal) : abortableDelay(ms, signal);
  }

  /**
   * Waits `ms` (a retry wait), ending early when the server is reached again by any loop, or
   * when `signal` aborts. Resolves whether it ended early.
   */
  wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (early: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#waiters.delete(onReached);
        resolve(early);
      };
      const onReached = () => finish(true);
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(onReached);
    });
  }
}

/**
 * Full-jitter backoff: the n-th wait is `random(0, min(cap, base * 2^n))`; a wait after a
 * failure to reach the server ({@linkcode Backoff.retryWait}) is, with a
 * {@linkcode Reachability}, also at most {@linkcode outageCapMs} of the time since the server
 * was last reachable (protocol 8, v1.1). Call
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
  #reachability: Reachability | undefined;
  #attempt = 0;
  #healthySince: number | undefined;

  /** Creates a schedule at attempt 0. */
  constructor(options: BackoffOptions = {}) {
    this.#base = options.baseMs ?? BACKOFF_BASE_MS;
    this.#cap = options.capMs ?? BACKOFF_CAP_MS;
    this.#resetAfter = options.resetAfterMs ?? BACKOFF_RESET_AFTER_MS;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#reachability = options.reachability;
    if (!(this.#base > 0) || !(this.#cap >= this.#base)) {
      throw new RangeError(`Backoff needs 0 < baseMs <= capMs, got ${this.#base}/${this.#cap}`);
    }
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * The next jittered wait of the exponent alone, in milliseconds; counts one failure. For
   * an answer that is not an outage (the server answered, but not as hoped: a 404 to a
   * heartbeat, a session replaced, an unusable frame), where a quick retry would only hammer
   * a server that is up.
   */
  next(): number {
    return this.#draw(Infinity);
  }

  /**
   * The wait after a failure to reach the server (a network error, a timeout, 429, 5xx, a
   * dropped WebSocket): the server's `Retry-After` when it sent one (it wins, protocol 8,
   * even past the outage bound); else a jittered wait drawn below the exponent's step and,
   * with a {@linkcode Reachability}, below half the time since the server was last reachable
   * (that bound never under 1 s: protocol 8, v1.1); at most `capMs`. Counts one failure.
   */
  retryWait(retryAfterMs: number | undefined, capMs: number = Infinity): number {
    if (retryAfterMs !== undefined) return retryAfterMs;
    return Math.min(this.#draw(this.#reachability?.capMs() ?? Infinity), capMs);
  }

  #draw(limit: number): number {
    this.#healthySince = undefined;
    const step = backoffCeiling(this.#attempt, { baseMs: this.#base, capMs: this.#cap });
    this.#attempt++;
    return Math.floor(this.#random() * Math.min(step, limit));
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
