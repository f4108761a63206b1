/** `stop_trading` (protocol 4): stops the workload's whole process tree. */
import { describeExit, type StopResult } from "../../trading/trading_supervisor.ts";
import type { CommandHandler, HandlerOutcome } from "../command_handler.ts";
import type { HandlerDeps } from "./handler_deps.ts";

/** The `stop_trading` handler (`force` skips the grace): `data` is `{ trading_status, exit_code }`. */
export function stopTradingHandler(
  deps: Pick<HandlerDeps, "supervisor">,
): CommandHandler<"stop_trading"> {
  return async (command) =>
    stopTradingOutcome(await deps.supervisor.stop({ force: command.params.force ?? false }));
}

/** What a stop of the supervisor means as a command outcome. */
export function stopTradingOutcome(result: StopResult): HandlerOutcome {
  if (result.kind === "not_running") {
    return {
      status: "completed",
      output: result.restartCancelled
        ? "trading workload was crashed; its pending restart is cancelled"
        : "trading workload is not running",
      data: {
        trading_status: "stopped",
        exit_code: null,
        already_stopped: !result.restartCancelled && !result.wasCrashed,
      },
    };
  }
  const { exit, killed } = result;
  return {
    status: "completed",
    output: `trading workload stopped (${describeExit(exit)}${killed ? ", killed" : ""})`,
    data: { trading_status: "stopped", exit_code: exit.code, signal: exit.signal, killed },
  };
}
