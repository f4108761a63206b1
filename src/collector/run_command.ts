/**
 * One-shot command with a deadline, for probes that run a tool and parse its output.
 *
 * @module
 */

/** Options of {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** Kill the command after this many milliseconds. @default {3000} */
  timeoutMs?: number;
  /** Kills the command when aborted. */
  signal?: AbortSignal;
}

/**
 * Runs `command` with `args` and returns its standard output as text.
 * Throws when it cannot start, exits non-zero, or runs past `timeoutMs`.
 */
export async function runCommand(
  command: string,
  args: string[],
  options: RunCommandOptions = {},
): Promise<string> {
  const { timeoutMs = 3000 } = options;
  options.signal?.throwIfAborted();
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`${command} timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    const output = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    options.signal?.throwIfAborted();
    if (timedOut) throw new Error(`${command} timed out after ${timeoutMs} ms`);
    if (!output.success) {
      const stderr = new TextDecoder().decode(output.stderr).trim().slice(0, 200);
      throw new Error(`${command} exited with code ${output.code}${stderr ? `: ${stderr}` : ""}`);
    }
    return new TextDecoder().decode(output.stdout);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}
