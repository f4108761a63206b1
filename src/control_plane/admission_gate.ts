/**
 * The control plane's own defence against a reconnect wave (issue 15, protocol 8 v1.1): at
 * most so many registers, and so many WebSocket upgrades, are handled at once; one more is
 * answered 503 with a `Retry-After` drawn at random over a window sized to the backlog, so
 * that the refused agents come back spread out instead of all in the next second. The agents'
 * own jitter is not trusted to do this: after an outage they all retry within half its length.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { HttpError } from "./http_error.ts";
import { UsageError } from "../shared/usage_error.ts";

/** Default cap of registers handled at once (`--max-concurrent-registers`). */
export const DEFAULT_MAX_CONCURRENT_REGISTERS = 64;
/** Default cap of WebSocket upgrades handled at once (`--max-concurrent-upgrades`). */
export const DEFAULT_MAX_CONCURRENT_UPGRADES = 128;
/** The longest `Retry-After` the gate hands out, in seconds. */
export const MAX_ADMISSION_RETRY_AFTER_SECONDS = 60;
/** Completions over this many seconds measure how fast the gate lets requests through. */
const RATE_WINDOW_SECONDS = 5;

/** Options of {@linkcode AdmissionGate}. */
export interface AdmissionGateOptions {
  /** Requests handled at once; one more is refused. */
  maxConcurrent: number;
  /** Longest `Retry-After` in seconds. @default {MAX_ADMISSION_RETRY_AFTER_SECONDS} */
  maxRetryAfterSeconds?: number;
  /** Uniform random source in [0, 1). @default {Math.random} */
  random?: () => number;
  /** Clock in Unix ms. @default {Date.now} */
  now?: () => number;
}

/** What {@linkcode AdmissionGate.enter} decided. */
export type Admission =
  | { admitted: true; release: () => void }
  | { admitted: false; retryAfterSeconds: number };

/** Counters of one gate, for logs and benches. */
export interface AdmissionStats {
  /** Requests being handled now. */
  inFlight: number;
  /** Requests let through since the start. */
  admitted: number;
  /** Requests refused since the start. */
  refused: number;
  /** The largest `inFlight` seen. */
  peakInFlight: number;
}

/**
 * A concurrency cap with a spread-out refusal. The backlog is estimated as the refusals of
 * the last window (each refused client comes back once within the window it was given); the
 * window is that backlog divided by the rate at which requests have been completing lately
 * (at first, before anything completed: `maxConcurrent` per second), between 1 s and
 * `maxRetryAfterSeconds`. Each refusal draws its `Retry-After` uniformly from 1 s to the
 * window, in whole seconds (the header's unit).
 *
 * @example
 * ```ts
 * const gate = new AdmissionGate({ maxConcurrent: 64 });
 * const admission = gate.enter();
 * if (!admission.admitted) return busy(admission.retryAfterSeconds);
 * try { return await register(request); } finally { admission.release(); }
 * ```
 */
export class AdmissionGate {
  #max: number;
  #maxRetryAfter: number;
  #random: () => number;
  #now: () => number;
  #inFlight = 0;
  #stats = { admitted: 0, refused: 0, peakInFlight: 0 };
  /**
   * Per-second counts, keyed by `floor(now / 1000)`: refusals of the last 60 s, completions of
   * the last {@linkcode RATE_WINDOW_SECONDS} (pruned whenever a new second is counted).
   */
  #refusals = new Map<number, number>();
  #completions = new Map<number, number>();
  #windowSeconds = 1;

  /** Creates a gate; `maxConcurrent` must be a positive integer. */
  constructor(options: AdmissionGateOptions) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      throw new RangeError(
        `maxConcurrent must be a positive integer, got ${options.maxConcurrent}`,
      );
    }
    this.#max = options.maxConcurrent;
    this.#maxRetryAfter = Math.max(1, Math.floor(options.maxRetryAfterSeconds ?? 60));
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** The counters so far. */
  get stats(): AdmissionStats {
    return { inFlight: this.#inFlight, ...this.#stats };
  }

  /** The window refusals are spread over now, in seconds. */
  get windowSeconds(): number {
    return this.#windowSeconds;
  }

  /**
   * Lets one request in (call `release` exactly once when it is done; more calls are
   * ignored), or refuses it with the `Retry-After` to send.
   */
  enter(): Admission {
    const second = Math.floor(this.#now() / 1000);
    if (this.#inFlight >= this.#max) {
      bump(this.#refusals, second);
      this.#stats.refused++;
      this.#windowSeconds = this.#window(second);
      const retryAfterSeconds = 1 + Math.floor(this.#random() * this.#windowSeconds);
      return {
        admitted: false,
        retryAfterSeconds: Math.min(retryAfterSeconds, this.#windowSeconds),
      };
    }
    this.#inFlight++;
    this.#stats.admitted++;
    this.#stats.peakInFlight = Math.max(this.#stats.peakInFlight, this.#inFlight);
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight--;
        const second = Math.floor(this.#now() / 1000);
        // Pruned here too: a gate that never refuses would otherwise keep a count per second.
        if (!this.#completions.has(second)) {
          prune(this.#completions, second - RATE_WINDOW_SECONDS);
        }
        bump(this.#completions, second);
      },
    };
  }

  /** `backlog / completions per second`, between 1 and the longest `Retry-After`. */
  #window(second: number): number {
    prune(this.#refusals, second - MAX_ADMISSION_RETRY_AFTER_SECONDS);
    prune(this.#completions, second - RATE_WINDOW_SECONDS);
    // The backlog: refused within the last window (each comes back once within it), and
    // everything being handled now.
    const backlog = sumSince(this.#refusals, second - this.#windowSeconds) + this.#inFlight;
    const completed = sumSince(this.#completions, second - RATE_WINDOW_SECONDS);
    const perSecond = completed > 0 ? completed / RATE_WINDOW_SECONDS : this.#max;
    return Math.min(this.#maxRetryAfter, Math.max(1, Math.ceil(backlog / perSecond)));
  }
}

function bump(counts: Map<number, number>, second: number): void {
  counts.set(second, (counts.get(second) ?? 0) + 1);
}

function prune(counts: Map<number, number>, before: number): void {
  for (const second of counts.keys()) if (second < before) counts.delete(second);
}

function sumSince(counts: Map<number, number>, since: number): number {
  let sum = 0;
  for (const [second, count] of counts) if (second >= since) sum += count;
  return sum;
}

/**
 * Hono middleware putting a route behind `gate` (or nothing when `gate` is undefined): over
 * the cap it answers 503 `rate_limited` with the gate's `Retry-After`, before reading the
 * request's body or checking its key, so a refusal costs next to nothing.
 */
export function admissionMiddleware(
  gate: AdmissionGate | undefined,
  what: string,
): MiddlewareHandler {
  return async (_c, next) => {
    if (!gate) return await next();
    const admission = gate.enter();
    if (!admission.admitted) {
      const seconds = admission.retryAfterSeconds;
      throw new HttpError(
        503,
        "rate_limited",
        `Too many ${what} at once; retry in ${seconds} s`,
        { headers: { "Retry-After": String(seconds) } },
      );
    }
    try {
      await next();
    } finally {
      admission.release();
    }
  };
}

/** The two gates of a control plane. */
export interface AdmissionGates {
  /** `POST /api/workers/register`. */
  register: AdmissionGate;
  /** `GET /api/v1/workers/ws` (the WebSocket upgrade, `Paths.websocket`). */
  upgrade: AdmissionGate;
}

/** The gates for the given caps (defaults when not given). */
export function createAdmissionGates(
  options: { maxConcurrentRegisters?: number; maxConcurrentUpgrades?: number; now?: () => number },
): AdmissionGates {
  const now = options.now ?? Date.now;
  return {
    register: new AdmissionGate({
      maxConcurrent: options.maxConcurrentRegisters ?? DEFAULT_MAX_CONCURRENT_REGISTERS,
      now,
    }),
    upgrade: new AdmissionGate({
      maxConcurrent: options.maxConcurrentUpgrades ?? DEFAULT_MAX_CONCURRENT_UPGRADES,
      now,
    }),
  };
}

/** The command-line flags of the two caps and the environment variables behind them. */
export const ADMISSION_FLAGS = {
  maxConcurrentRegisters: ["max-concurrent-registers", "FTL_MAX_CONCURRENT_REGISTERS"],
  maxConcurrentUpgrades: ["max-concurrent-upgrades", "FTL_MAX_CONCURRENT_UPGRADES"],
} as const;

/**
 * The caps from `--max-concurrent-registers` / `--max-concurrent-upgrades`, else from
 * `FTL_MAX_CONCURRENT_REGISTERS` / `FTL_MAX_CONCURRENT_UPGRADES`; each a whole number >= 1.
 * Throws a {@linkcode UsageError} naming the flag or variable otherwise.
 */
export function admissionCaps(
  values: Record<string, unknown>,
  env: (name: string) => string | undefined,
): { maxConcurrentRegisters?: number; maxConcurrentUpgrades?: number } {
  const caps: { maxConcurrentRegisters?: number; maxConcurrentUpgrades?: number } = {};
  for (const [field, [flag, variable]] of Object.entries(ADMISSION_FLAGS)) {
    const fromFlag = values[flag];
    const raw = typeof fromFlag === "string" ? fromFlag : env(variable);
    if (raw === undefined) continue;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isInteger(n) || n < 1) {
      const source = typeof fromFlag === "string" ? `--${flag}` : variable;
      throw new UsageError(`${source} must be a whole number >= 1, got ${JSON.stringify(raw)}`);
    }
    caps[field as keyof typeof caps] = n;
  }
  return caps;
}
