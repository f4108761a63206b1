/** `update_config` (protocol 4, 7): apply the remotely updatable keys and persist them. */
import { updateConfigFile } from "../../config/update_config_file.ts";
import type { CommandHandler, HandlerOutcome } from "../command_handler.ts";
import { planConfigUpdate } from "../plan_config_update.ts";
import type { HandlerDeps } from "./handler_deps.ts";

/**
 * The `update_config` handler: only the keys of protocol 7 within their bounds are applied,
 * written back to the config file (comments kept) and put in force; `data` is
 * `{ applied: {key: [old, new]}, rejected: {key: reason} }`. One update runs at a time, each
 * planned against the config the previous one left; nothing is applied when the file cannot
 * be written.
 */
export function updateConfigHandler(
  deps: Pick<HandlerDeps, "getConfig" | "applyConfig" | "configPath" | "writeConfig">,
): CommandHandler<"update_config"> {
  const writeConfig = deps.writeConfig ?? updateConfigFile;
  let updates: Promise<unknown> = Promise.resolve();
  return (command, { logger }) => {
    const { changes } = command.params;
    const run = updates.then(async (): Promise<HandlerOutcome> => {
      const plan = planConfigUpdate(deps.getConfig(), changes);
      const keys = Object.keys(plan.applied);
      const rejectedText = Object.entries(plan.rejected)
        .map(([key, reason]) => `${key}: ${reason}`).join("; ");
      if (keys.length === 0) {
        return {
          status: "failed",
          error: `no change applied: ${rejectedText}`,
          error_code: "invalid_params",
          data: { applied: {}, rejected: plan.rejected },
        };
      }
      const values = Object.fromEntries(keys.map((key) => [key, plan.applied[key]![1]]));
      try {
        await writeConfig(deps.configPath, values);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        logger.error("update_config could not write the config file", { error: message });
        return {
          status: "failed",
          error: `nothing applied: the config file could not be written (${message})`,
          error_code: "config_write_failed",
          data: { applied: {}, rejected: plan.rejected },
        };
      }
      deps.applyConfig(plan.next);
      logger.info("config updated", { applied: keys, rejected: Object.keys(plan.rejected) });
      return {
        status: "completed",
        output: `applied ${keys.join(", ")}${rejectedText ? `; rejected ${rejectedText}` : ""}`,
        data: { applied: plan.applied, rejected: plan.rejected },
      };
    });
    updates = run.catch(() => {});
    return run;
  };
}
