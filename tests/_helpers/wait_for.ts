/** Polling helpers for tests: wait for a condition with a deadline, never a bare sleep. */

/** Options of {@linkcode waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds. @default {10000} */
  timeoutMs?: number;
  /** Poll this often. @default {25} */
  intervalMs?: number;
  /** Included in the error when the deadline passes. */
  message?: string;
}

/**
 * Calls `probe` until it returns a value other than `undefined`, `null` or `false`, and
 * returns that value; throws when `timeoutMs` passes first.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const { timeoutMs = 10_000, intervalMs = 25, message = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) {
        return value as Exclude<T, undefined | null | false>;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
