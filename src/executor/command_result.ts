/**
 * The one place a command result (protocol 3.4) is built: for what the executor ran and for
 * what the intake refused. Every result's text is redacted and cut to the same length and
 * its data bounded the same way (`redact_and_truncate.ts`), and every result is checked
 * against the protocol schema before it is stored for sending.
 *
 * @module
 */
import { type CommandResult, CommandResultSchema, validate } from "../protocol/mod.ts";
import { redactAndBound, redactAndTruncate } from "./redact_and_truncate.ts";

/** What happened to a command, before it becomes a result. */
export type ResultOutcome = Omit<
  CommandResult,
  "command_id" | "started_at" | "finished_at" | "timestamp"
>;

/** Options of {@linkcode commandResult}. */
export interface CommandResultOptions {
  /** When the command started, Unix ms. */
  startedAt: number;
  /** When it finished, Unix ms; `timestamp` is its whole seconds. @default {startedAt} */
  finishedAt?: number;
  /** Told why an outcome did not make a valid result (it became `handler_error`). */
  onInvalid?: (problem: string) => void;
}

/**
 * The protocol 3.4 result for `commandId`: `outcome` with its text and data redacted and
 * bounded, stamped with `started_at`, `finished_at` and `timestamp`. Never invalid: an outcome
 * that would not validate (a bad `error_code`, say) becomes `failed`/`handler_error`.
 *
 * @example
 * ```ts
 * commandResult("c1", { status: "failed", error: "expired", error_code: "expired" }, {
 *   startedAt: now,
 * });
 * ```
 */
export function commandResult(
  commandId: string,
  outcome: ResultOutcome,
  options: CommandResultOptions,
): CommandResult {
  const startedAt = options.startedAt;
  const finishedAt = options.finishedAt ?? startedAt;
  const times = {
    started_at: startedAt,
    finished_at: finishedAt,
    timestamp: Math.floor(finishedAt / 1000),
  };
  const result: CommandResult = {
    command_id: commandId,
    status: outcome.status,
    ...(outcome.output !== undefined ? { output: redactAndTruncate(outcome.output) } : {}),
    ...(outcome.error !== undefined ? { error: redactAndTruncate(outcome.error) } : {}),
    ...(outcome.error_code !== undefined ? { error_code: outcome.error_code } : {}),
    ...(outcome.data !== undefined ? { data: redactAndBound(outcome.data) } : {}),
    ...times,
  };
  const checked = validate(CommandResultSchema, result);
  if (checked.ok) return result;
  options.onInvalid?.(checked.error);
  return {
    command_id: commandId,
    status: "failed",
    error: redactAndTruncate(`the handler produced an invalid result (${checked.error})`),
    error_code: "handler_error",
    ...times,
  };
}
