/** The Command object and the params schema of every command type (protocol 4). */
import { z } from "zod";
import { COMMAND_TIMEOUT_BOUNDS, COMMAND_TYPES, type CommandType } from "./constants.ts";

const ms = z.number().int().nonnegative();

/**
 * A command's `created_at`: an ISO 8601 string since v1.1 (FineTuneLab's own agent cannot
 * decode a number there), Unix ms from older servers. The agent only carries it (the
 * signature covers it as sent), so any bounded string is accepted.
 */
export const CreatedAtSchema = z.union([ms, z.string().min(1).max(64)]);

/**
 * A command as it travels on the wire. Unknown members are kept (not stripped), because the
 * signature covers every member the server sent.
 */
export const CommandSchema = z.looseObject({
  // "." and ".." are URL dot segments: a result for them could not be addressed (3.4).
  id: z.string().min(1).max(128).refine((id) => id !== "." && id !== "..", {
    message: "id must not be . or ..",
  }),
  worker_id: z.string().min(1),
  command_type: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()),
  timeout_seconds: z.number().int().min(COMMAND_TIMEOUT_BOUNDS.min).max(COMMAND_TIMEOUT_BOUNDS.max),
  created_at: CreatedAtSchema,
  issued_at: ms,
  expires_at: ms,
  signature_alg: z.string(),
  key_id: z.string().optional(),
  signature: z.string(),
});
/** A command as it travels on the wire. */
export type Command = z.infer<typeof CommandSchema>;

/** Keys that `update_config` may change (protocol 7). */
export const REMOTELY_UPDATABLE_KEYS = [
  "heartbeat_interval_seconds",
  "metrics_interval_seconds",
  "log_level",
  "max_concurrency",
  "trading_enabled",
  "capabilities",
] as const;
/** One of {@linkcode REMOTELY_UPDATABLE_KEYS}. */
export type RemotelyUpdatableKey = typeof REMOTELY_UPDATABLE_KEYS[number];

/** The params schema of each known command type. Extra params members are refused. */
export const CommandParamsSchemas = {
  start_trading: z.strictObject({}),
  stop_trading: z.strictObject({ force: z.boolean().optional() }),
  update_config: z.strictObject({
    changes: z.record(z.string(), z.unknown()).refine((c) => Object.keys(c).length > 0, {
      message: "changes must name at least one key",
    }),
  }),
  restart_agent: z.strictObject({}),
  collect_diagnostics: z.strictObject({}),
  ping: z.strictObject({}),
} as const satisfies Record<CommandType, z.ZodType>;

/** Params of a given command type. */
export type CommandParams<T extends CommandType> = z.infer<(typeof CommandParamsSchemas)[T]>;

/** Whether `value` is one of the command types of protocol 4. */
export function isCommandType(value: string): value is CommandType {
  return (COMMAND_TYPES as readonly string[]).includes(value);
}
