/**
 * Supervision of the agent's loops: an exception restarts that loop, after a backoff wait
 * and with one log line; it never stops the agent (issue: "every loop survives").
 *
 * @module
 */
import { Backoff } from "../shared/backoff.ts";
import { abortableDelay } from "../shared/delay.ts";
import type { Logger } from "../log/logger.ts";

/** Options of {@linkcode superviseLoop}. */
export interface SuperviseLoopOptions {
  /** Where each restart is logged (one error line). */
  logger: Logger;
  /** Stops the loop for good (shutdown); the supervisor then returns. */
  signal: AbortSignal;
  /** Uniform random source for the backoff. @default {Math.random} */
  random?: () => number;
  /** Clock in Unix ms. @default {Date.now} */
  now?: () => number;
  /** Least wait before a restart. @default {1000} */
  minWaitMs?: number;
  /** A loop that ran this long before failing starts the backoff over. @default {60000} */
  healthyAfterMs?: number;
}

/**
 * Runs `loop(signal)` until `signal` aborts. When the loop throws (or returns while the
 * agent still runs), one error line names the loop and the error, and the loop is started
 * again after `minWaitMs` plus a full-jitter backoff wait (1 s doubling to 60 s; it starts
 * over after a run of `healthyAfterMs`). Resolves when `signal` aborts; never rejects.
 *
 * @example
 * ```ts
 * await Promise.all([
 *   superviseLoop("heartbeat", (s) => runHeartbeatLoop(context, s), { logger, signal }),
 *   superviseLoop("result sender", (s) => runResultSender(context, s), { logger, signal }),
 * ]);
 * ```
 */
export async function superviseLoop(
  name: string,
  loop: (signal: AbortSignal) => Promise<void>,
  options: SuperviseLoopOptions,
): Promise<void> {
  const { logger, signal } = options;
  const now = options.now ?? Date.now;
  const backoff = new Backoff({ random: options.random ?? Math.random, now });
  const minWaitMs = options.minWaitMs ?? 1_000;
  const healthyAfterMs = options.healthyAfterMs ?? 60_000;
  while (!signal.aborted) {
    const startedAt = now();
    let failure: unknown;
    try {
      await loop(signal);
      if (signal.aborted) return;
      failure = new Error("the loop returned while the agent is running");
    } catch (error) {
      if (signal.aborted) return;
      failure = error;
    }
    if (now() - startedAt >= healthyAfterMs) backoff.reset();
    const wait = minWaitMs + backoff.next();
    logger.error(`${name} loop failed; restarting it`, {
      error: failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure),
      restart_in_ms: wait,
      restarts: backoff.attempt,
    });
    if (failure instanceof Error && failure.stack) {
      logger.debug(`${name} loop failure`, { stack: failure.stack });
    }
    await abortableDelay(wait, signal);
  }
}
