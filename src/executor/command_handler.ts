/** The shape every command handler has: what the executor calls for one command type. */
import type { CommandType, VerifiedCommand } from "../protocol/mod.ts";
import type { Logger } from "../log/logger.ts";

/** What a handler reports; the result builder turns it into a protocol 3.4 result. */
export interface HandlerOutcome {
  /** `completed` when the command did what it asked, else `failed`. */
  status: "completed" | "failed";
  /** Short human text. */
  output?: string;
  /** Why it failed, for a human. */
  error?: string;
  /** Why it failed, for a machine (snake_case). */
  error_code?: string;
  /** The command type's result data (protocol 4). */
  data?: Record<string, unknown>;
}

/** What a handler gets besides the command. */
export interface HandlerContext {
  /** Aborted when the command's `timeout_seconds` pass or the agent shuts down by force. */
  signal: AbortSignal;
  /** A logger that already names the command. */
  logger: Logger;
}

/**
 * Runs one command type, given the command with its params already parsed (typed per type).
 * May throw: the executor reports that as `handler_error`.
 */
export type CommandHandler<T extends CommandType = CommandType> = (
  command: VerifiedCommand<T>,
  context: HandlerContext,
) => Promise<HandlerOutcome>;

/** A handler for every command type; a type without one does not compile. */
export type CommandHandlers = { [K in CommandType]: CommandHandler<K> };
