/** The Command object (protocol 4), as it travels and as it is after verification. */
import { z } from "zod";
import type { CommandParams, CommandType } from "./command_types.ts";
import { COMMAND_TIMEOUT_BOUNDS } from "./constants.ts";

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

/** The members every command has, without the open-ended rest that `Command` allows. */
type CommandMembers = {
  [K in keyof Command as string extends K ? never : number extends K ? never : K]: Command[K];
};

/**
 * A command that passed `verifyCommand`: its type is one of protocol 4 and its `params` are
 * the ones its schema parsed, typed per type. Only `verifyCommand` makes one; the executor
 * and the handlers take it as it is, without looking at the params again.
 */
export type VerifiedCommand<T extends CommandType = CommandType> = {
  [K in T]: Omit<CommandMembers, "command_type" | "params"> & {
    command_type: K;
    params: CommandParams<K>;
  };
}[T];
