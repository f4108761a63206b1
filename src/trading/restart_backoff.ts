/** How long the supervisor waits before restarting a crashed workload. */
import { backoffCeiling } from "../shared/backoff.ts";

/** Options of {@linkcode restartDelayMs}. */
export interface RestartBackoffOptions {
  /** Wait after the first crash. @default {1000} */
  baseMs?: number;
  /** Longest wait. @default {60000} */
  capMs?: number;
}

/** Defaults of {@linkcode RestartBackoffOptions}. */
export const DEFAULT_RESTART_BACKOFF: Required<RestartBackoffOptions> = {
  baseMs: 1_000,
  capMs: 60_000,
};

/**
 * The wait before restart number `crashes` in a row (1 for the first crash):
 * `min(capMs, baseMs * 2^(crashes - 1))`. Deterministic on purpose: there is one workload
 * per machine, so there is no herd to spread out with jitter.
 *
 * @example
 * ```ts
 * restartDelayMs(1); // 1000
 * restartDelayMs(3); // 4000
 * restartDelayMs(20); // 60000
 * ```
 */
export function restartDelayMs(crashes: number, options: RestartBackoffOptions = {}): number {
  if (!Number.isInteger(crashes) || crashes < 1) {
    throw new RangeError(`crashes must be a whole number of at least 1, got ${crashes}`);
  }
  const { baseMs, capMs } = { ...DEFAULT_RESTART_BACKOFF, ...options };
  return backoffCeiling(crashes - 1, { baseMs, capMs });
}
