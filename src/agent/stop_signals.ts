/** The agent's two-step stop: the first signal drains, the second forces. */

/**
 * A second signal sooner than this after the first is the same stop, not a "force": one
 * Ctrl-C in a terminal under `deno task` reaches the agent twice (the terminal signals the
 * whole process group, and `deno task` forwards the signal as well).
 */
export const FORCE_AFTER_MS = 1_000;

/** What {@linkcode stopSignals} returns. */
export interface StopSignals {
  /** Resolves with a reason on the first stop request. */
  drainRequested: Promise<string>;
  /** Aborted on the second stop request. */
  forceSignal: AbortSignal;
  /** Asks for a drain (as a first signal would); a second call forces. */
  requestDrain(reason: string): void;
  /** Removes the OS signal listeners. */
  dispose(): void;
}

/** Options of {@linkcode stopSignals}. */
export interface StopSignalsOptions {
  /** Aborting it is a first stop request. */
  signal?: AbortSignal;
  /** Whose signal names to listen for. @default {Deno.build.os} */
  os?: typeof Deno.build.os;
  /** Clock in ms. @default {Date.now} */
  now?: () => number;
  /** Listens for `name` (tests pass a fake). @default {Deno.addSignalListener} */
  addSignalListener?: (name: Deno.Signal, listener: () => void) => void;
  /** Stops listening. @default {Deno.removeSignalListener} */
  removeSignalListener?: (name: Deno.Signal, listener: () => void) => void;
  /** Told about a signal that came too soon after the first to count as "force". */
  onEarlySecond?: (reason: string) => void;
}

/**
 * Listens for SIGINT and SIGTERM (Windows: SIGINT for Ctrl-C and SIGBREAK for Ctrl-Break).
 * The first one (or `options.signal` aborting) starts the drain; a second one at least
 * {@linkcode FORCE_AFTER_MS} after the first forces.
 */
export function stopSignals(options: StopSignalsOptions = {}): StopSignals {
  const os = options.os ?? Deno.build.os;
  const now = options.now ?? Date.now;
  const add = options.addSignalListener ?? Deno.addSignalListener;
  const remove = options.removeSignalListener ?? Deno.removeSignalListener;
  const drain = Promise.withResolvers<string>();
  const force = new AbortController();
  let firstSignalAt: number | undefined;
  let requested = false;
  const requestDrain = (reason: string) => {
    // Only signals from outside force; internal requests (restart_agent, shutdown) never do.
    const external = reason.startsWith("SIG");
    if (!requested) {
      requested = true;
      if (external) firstSignalAt = now();
      drain.resolve(reason);
    } else if (external) {
      if (firstSignalAt !== undefined && now() - firstSignalAt < FORCE_AFTER_MS) {
        options.onEarlySecond?.(reason);
        return;
      }
      force.abort(new Error(`forced by ${reason}`));
    }
  };
  const names: Deno.Signal[] = os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM"];
  const listeners = names.map((name) => {
    const listener = () => requestDrain(name);
    add(name, listener);
    return [name, listener] as const;
  });
  const onAbort = () => requestDrain("stop requested");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  return {
    drainRequested: drain.promise,
    forceSignal: force.signal,
    requestDrain,
    dispose() {
      for (const [name, listener] of listeners) remove(name, listener);
      options.signal?.removeEventListener("abort", onAbort);
    },
  };
}
