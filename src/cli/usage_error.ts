/** A mistake on the command line: `main.ts` prints its one line and exits 2. */

/**
 * A command-line mistake (bad flag, missing argument, refusal such as an existing config
 * without `--force`). The message is one line that names the flag and the fix.
 */
export class UsageError extends Error {
  /** The flag or argument concerned, e.g. `--api-key`. */
  readonly flag: string;

  /** `message` should say what is wrong and how to fix it. */
  constructor(flag: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
    this.flag = flag;
  }
}
