/**
 * A mistake on a command line, for both programs (the agent's `main.ts` and the control
 * plane's `main.ts`): each prints its one line and exits 2.
 *
 * @module
 */

/**
 * A command-line mistake (bad flag, missing argument, refusal such as an existing config
 * without `--force`). The message is one line that names the flag and the fix.
 *
 * @example
 * ```ts
 * throw new UsageError("--port must be an integer 0-65535, got 70000");
 * ```
 */
export class UsageError extends Error {
  /** `message` should say what is wrong and how to fix it. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
  }
}
