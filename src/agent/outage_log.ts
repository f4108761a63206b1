/**
 * What the log says while the control plane cannot be reached, and when it can again: one
 * warning when an outage starts, then "still trying to reach <host> (attempt n, next in s,
 * last error …)" at most once a minute, and one line when the agent is back and has sent
 * what waited: "connected again after 42 s; 3 results, 12 samples delivered".
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";

/** Least time between two "still trying" lines. */
export const STILL_TRYING_INTERVAL_MS = 60_000;
/** After this long back, the "connected again" line is logged even if a backlog remains. */
export const CATCH_UP_REPORT_AFTER_MS = 60_000;

/** Options of {@linkcode OutageLog}. */
export interface OutageLogOptions {
  /** Where the lines go. */
  logger: Logger;
  /** The control plane's host (with port), as the lines name it. */
  host: string;
  /** What still waits to be sent: results in the outbox, samples in the spool. */
  backlog: () => { results: number; samples: number };
  /** Clock in Unix ms. @default {Date.now} */
  now?: () => number;
}

/** What a failed try tells {@linkcode OutageLog.failed}. */
export interface FailedTry {
  /** The first line of an outage, e.g. `control plane unreachable; retrying`. */
  firstLine: string;
  /** Why this try failed. */
  reason: string;
  /** When the next try is, from now. */
  nextInMs: number;
}

/** One outage at a time, as seen by the register and heartbeat loops. */
export class OutageLog {
  #options: OutageLogOptions;
  #now: () => number;
  #downSince: number | undefined;
  #attempts = 0;
  #lastLineAt = -Infinity;
  #catchUp:
    | { outageMs: number; backAt: number; results: number; samples: number }
    | undefined;

  /** Creates the log; nothing is written until a try fails. */
  constructor(options: OutageLogOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether an outage is going on. */
  get down(): boolean {
    return this.#downSince !== undefined;
  }

  /** Records a failed try: the outage's first line, or a reminder at most once a minute. */
  failed(attempt: FailedTry): void {
    const now = this.#now();
    const { logger, host } = this.#options;
    this.#attempts++;
    if (this.#downSince === undefined) {
      this.#downSince = now;
      this.#attempts = 1;
      this.#catchUp = undefined;
      this.#lastLineAt = now;
      logger.warn(attempt.firstLine, { reason: attempt.reason, wait_ms: attempt.nextInMs });
      return;
    }
    if (now - this.#lastLineAt < STILL_TRYING_INTERVAL_MS) return;
    this.#lastLineAt = now;
    logger.warn(
      `still trying to reach ${host} (attempt ${this.#attempts}, next in ${
        Math.round(attempt.nextInMs / 1000)
      } s, last error ${attempt.reason})`,
    );
  }

  /** Records an answered request: ends an outage, and reports the catch-up when it is done. */
  reachable(): void {
    const now = this.#now();
    if (this.#downSince !== undefined) {
      this.#catchUp = { outageMs: now - this.#downSince, backAt: now, results: 0, samples: 0 };
      this.#downSince = undefined;
      this.#attempts = 0;
    }
    this.#report();
  }

  /** Records results or samples delivered; counted while catching up after an outage. */
  delivered(kind: "results" | "samples", count: number): void {
    if (this.#catchUp === undefined) return;
    this.#catchUp[kind] += count;
    this.#report();
  }

  #report(): void {
    const catchUp = this.#catchUp;
    if (catchUp === undefined) return;
    const backlog = this.#options.backlog();
    const done = backlog.results === 0 && backlog.samples === 0;
    if (!done && this.#now() - catchUp.backAt < CATCH_UP_REPORT_AFTER_MS) return;
    this.#catchUp = undefined;
    const waiting = done
      ? ""
      : ` (${backlog.results} results, ${backlog.samples} samples still waiting)`;
    this.#options.logger.info(
      `connected again after ${
        Math.round(catchUp.outageMs / 1000)
      } s; ${catchUp.results} results, ${catchUp.samples} samples delivered${waiting}`,
    );
  }
}
