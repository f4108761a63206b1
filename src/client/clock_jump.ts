/** Detects wall-clock jumps (sleep/resume, manual clock changes) against the monotonic clock. */

/** Options of {@linkcode ClockJumpDetector}. */
export interface ClockJumpOptions {
  /** Wall clock in Unix ms. @default {Date.now} */
  now?: () => number;
  /** Monotonic clock in ms. @default {performance.now} */
  monotonic?: () => number;
  /** A drift bigger than this between the two clocks counts as a jump. @default {15000} */
  thresholdMs?: number;
}

/**
 * Compares how far the wall clock and the monotonic clock moved since the last check. A
 * process that was suspended (laptop sleep) sees the wall clock move while the monotonic
 * clock did not (or moved much less), and a clock set by hand moves only the wall clock.
 */
export class ClockJumpDetector {
  #now: () => number;
  #monotonic: () => number;
  #threshold: number;
  #lastWall: number;
  #lastMono: number;

  /** Starts measuring from now. */
  constructor(options: ClockJumpOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#monotonic = options.monotonic ?? (() => performance.now());
    this.#threshold = options.thresholdMs ?? 15_000;
    this.#lastWall = this.#now();
    this.#lastMono = this.#monotonic();
  }

  /** Returns the jump in ms (wall minus monotonic) when it passes the threshold, else 0. */
  check(): number {
    const wall = this.#now();
    const mono = this.#monotonic();
    const drift = (wall - this.#lastWall) - (mono - this.#lastMono);
    this.#lastWall = wall;
    this.#lastMono = mono;
    return Math.abs(drift) > this.#threshold ? drift : 0;
  }
}
