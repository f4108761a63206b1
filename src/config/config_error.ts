/** The one error a bad configuration produces. */

/** Fields of a {@linkcode ConfigError}. */
export interface ConfigErrorOptions {
  /** The config key (dotted for nested keys) or flag that is wrong. */
  key: string;
  /** The bad value as shown to the user; never a secret (redact before passing it). */
  value?: string;
  /** What to do about it, as an instruction. */
  fix: string;
  /** Where the value came from: a file path, `--api-key`, `FTL_BASE_URL`, … */
  source?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * A configuration problem the user must fix. Its message is one line naming the key, the
 * bad value and the fix; `main.ts` prints it and exits 2 without a stack trace.
 */
export class ConfigError extends Error {
  /** The key or flag that is wrong. */
  readonly key: string;
  /** The bad value as shown (never a secret), if there is one. */
  readonly value: string | undefined;
  /** What to do about it. */
  readonly fix: string;
  /** Where the value came from, if known. */
  readonly source: string | undefined;

  /** Builds the one-line message from the parts. */
  constructor(problem: string, options: ConfigErrorOptions) {
    // The key is quoted so that the message reads the same whatever redaction does.
    const where = options.source ? ` (${options.source})` : "";
    super(`config error in '${options.key}'${where}: ${problem}; fix: ${options.fix}`, {
      cause: options.cause,
    });
    this.name = "ConfigError";
    this.key = options.key;
    this.value = options.value;
    this.fix = options.fix;
    this.source = options.source;
  }
}
