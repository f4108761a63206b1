/**
 * The command types of protocol 4 and the params of each: the one list a new command type is
 * added to. Everything else follows from it and the compiler points at what is missing: the
 * agent's config (`allowed_commands`), `verifyCommand`, the control plane's validation of a
 * new command, the agent's handler registry (`executor/handlers/mod.ts`, typed
 * `{ [K in CommandType]: … }`) and any table a dashboard keys by command type.
 *
 * @example Adding a command type
 * ```ts
 * // 1. here: the name in COMMAND_TYPES and its params in CommandParamsSchemas;
 * // 2. src/executor/handlers/<type>.ts: the handler, given typed params;
 * // 3. the one line in src/executor/handlers/mod.ts the compiler asks for.
 * ```
 *
 * @module
 */
import { z } from "zod";

/** Every command type of protocol 4, in the order of its table. */
export const COMMAND_TYPES = [
  "start_trading",
  "stop_trading",
  "update_config",
  "restart_agent",
  "collect_diagnostics",
  "ping",
] as const;
/** One of {@linkcode COMMAND_TYPES}. */
export type CommandType = typeof COMMAND_TYPES[number];

/**
 * The params schema of each command type. Extra params members are refused. Typed so that a
 * type of {@linkcode COMMAND_TYPES} without an entry here (or an entry for a type that is not
 * there) does not compile.
 */
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

/** Params of a given command type, as parsed by its schema. */
export type CommandParams<T extends CommandType> = z.output<(typeof CommandParamsSchemas)[T]>;

/** Whether `value` is one of the command types of protocol 4. */
export function isCommandType(value: string): value is CommandType {
  return (COMMAND_TYPES as readonly string[]).includes(value);
}
