/**
 * The one abortable sleep of the code base: every loop, restart and poll waits through it.
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds, or as soon as `signal` aborts (resolving, not rejecting,
 * so loops can check `signal.aborted` and end quietly). Returns whether the full time passed.
 *
 * @example
 * ```ts
 * while (!signal.aborted) {
 *   await work();
 *   await abortableDelay(1_000, signal);
 * }
 * ```
 */
export function abortableDelay(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
