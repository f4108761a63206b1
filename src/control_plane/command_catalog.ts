/**
 * The command types this control plane knows (protocol 4), each with its params as a JSON
 * Schema made from the protocol's own zod schema: the dashboard generates its forms from this
 * (`GET /api/admin/command-types`), so a new command type in the protocol gets a form without
 * a change to the page.
 *
 * @module
 */
import { z } from "zod";
import {
  COMMAND_TYPES,
  CommandParamsSchemas,
  type CommandType,
  REMOTELY_UPDATABLE_KEYS,
} from "./_deps.ts";
import type { CommandCatalogEntry, JsonSchema } from "./admin_api.ts";

/** One line per command type; `satisfies` makes a new type without a line a compile error. */
const DESCRIPTIONS = {
  start_trading: "Start the trading workload configured on the worker.",
  stop_trading: "Stop the trading workload: stop signal, grace period, then kill.",
  update_config: "Change settings the worker allows to be changed remotely.",
  restart_agent: "Report, drain and restart the agent.",
  collect_diagnostics: "Gather agent and system diagnostics (secrets redacted).",
  ping: "Check that the agent answers; replies at once.",
} as const satisfies Record<CommandType, string>;

/** Command types that stop the workload or the agent: the dashboard asks before sending. */
export const DISRUPTIVE_COMMANDS: readonly CommandType[] = ["stop_trading", "restart_agent"];

/** JSON Schema of `type`'s params; `update_config` names the keys a worker accepts (protocol 7). */
function paramsSchema(type: CommandType): JsonSchema {
  const { $schema: _, ...schema } = z.toJSONSchema(CommandParamsSchemas[type]) as
    & JsonSchema
    & { $schema?: string };
  const changes = schema.properties?.changes;
  if (type === "update_config" && changes) {
    changes.description = "Settings to change, by name";
    changes.propertyNames = { ...changes.propertyNames, examples: [...REMOTELY_UPDATABLE_KEYS] };
  }
  return schema;
}

/** Every command type of the protocol, in its order, with its params schema. */
export function commandCatalog(): CommandCatalogEntry[] {
  return COMMAND_TYPES.map((type) => ({
    command_type: type,
    description: DESCRIPTIONS[type],
    disruptive: DISRUPTIVE_COMMANDS.includes(type),
    params_schema: paramsSchema(type),
  }));
}
