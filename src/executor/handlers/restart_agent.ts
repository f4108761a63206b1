/** `restart_agent` (protocol 4): report, drain, then exit 75 for the service manager. */
import type { CommandHandler } from "../command_handler.ts";
import type { HandlerDeps } from "./handler_deps.ts";

/** The `restart_agent` handler: `data` is `{ restarting: true }`. */
export function restartAgentHandler(
  deps: Pick<HandlerDeps, "requestRestart">,
): CommandHandler<"restart_agent"> {
  return () => {
    // A macrotask runs after the executor has settled this command's result.
    setTimeout(deps.requestRestart, 0);
    return Promise.resolve({
      status: "completed",
      output: "the agent restarts once running commands are done",
      data: { restarting: true },
    });
  };
}
