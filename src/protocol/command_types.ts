/**
 * The command types of protocol 4 and the params of each: the one list a new command type is
 * added to. Everything else follows from it and the compiler points at what is missing: the
 * agent's config (`allowed_commands`), `verifyCommand`, the control plane's validation of a
 * new command, the agent's handler registry (`executor/handlers/mod.ts`, typed
 * `{ [K in CommandType]: … }`) and any table a dashboard keys by command type.
 *
 * @example Adding a command type
 * ```ts
 * // 1. the name in COMMAND_TYPES (constants.ts) and its params in CommandParamsSchemas here;
 * // 2. src/executor/handlers/<type>.ts: the handler, given typed params;
 * // 3. the one line in src/executor/handlers/mod.ts the compiler asks for.
 * ```
 *
 * @module
 */
import { z } from "zod";
import { COMMAND_TYPES, type CommandType } from "./constants.ts";

// The list itself lives in constants.ts, which imports nothing: the dashboard's browser bundle
// imports it there without pulling in zod.
export { COMMAND_TYPES, type CommandType } from "./constants.ts";

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
