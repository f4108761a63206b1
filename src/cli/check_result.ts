/** One line of `worker-agent doctor`. */

/** The outcome of one check. */
export interface CheckResult {
  /** Short name, e.g. `DNS`. */
  name: string;
  /** Passed (true), failed (false) or skipped because an earlier check failed (null). */
  ok: boolean | null;
  /** What was found. */
  detail: string;
  /** What to do when it failed. */
  hint?: string;
  /** Passed, but with something the user should look at (shown with `!`). */
  warning?: boolean;
}
