/** The agent's two-step stop: the first signal drains, the second forces. */

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

/**
 * Listens for SIGINT and SIGTERM (Windows: SIGINT for Ctrl-C and SIGBREAK for Ctrl-Break).
 * The first one (or `options.signal` aborting) starts the drain; the second forces.
 */
export function stopSignals(
  options: { signal?: AbortSignal; os?: typeof Deno.build.os } = {},
): StopSignals {
  const os = options.os ?? Deno.build.os;
  const drain = Promise.withResolvers<string>();
  const force = new AbortController();
  let requested = false;
  const requestDrain = (reason: string) => {
    if (!requested) {
      requested = true;
      drain.resolve(reason);
    } else if (reason.startsWith("SIG")) {
      // Only a second signal from outside forces; internal requests never do.
      force.abort(new Error(`forced by ${reason}`));
    }
  };
  const names: Deno.Signal[] = os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM"];
  const listeners = names.map((name) => {
    const listener = () => requestDrain(name);
    Deno.addSignalListener(name, listener);
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
      for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
      options.signal?.removeEventListener("abort", onAbort);
    },
  };
}
