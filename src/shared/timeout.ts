/**
 * The one "give up waiting after a while" of the code base: a probe that may hang, a TLS
 * handshake, the output pipes of a stopped workload.
 *
 * @module
 */

/** Thrown by {@linkcode withTimeout} when the time is up first. */
export class TimeoutError extends Error {
  /** `message` says what did not finish in time. */
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/** Options of {@linkcode withTimeout}. */
export interface WithTimeoutOptions<T> {
  /** The error's message. @default {`timed out after ${ms} ms`} */
  message?: string;
  /**
   * Called with the value when `promise` resolves after the time was up, so a late
   * connection (say) can still be closed.
   */
  onLate?: (late: T) => void;
}

/**
 * `promise`, or a {@linkcode TimeoutError} when it has not settled within `ms`. The promise
 * itself is not cancelled (there is nothing to cancel it with); `onLate` gets what it
 * resolves with after the time is up. The timer never outlives the race.
 *
 * @example
 * ```ts
 * const conn = await withTimeout(Deno.connect({ hostname, port }), 5_000, {
 *   onLate: (c) => c.close(),
 * });
 * // Wait at most 2 s for the pipes, whatever happens:
 * await withTimeout(output, 2_000).catch(() => {});
 * ```
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  options: WithTimeoutOptions<T> = {},
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new TimeoutError(options.message ?? `timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
    if (timedOut && options.onLate) promise.then(options.onLate, () => {});
  }
}
