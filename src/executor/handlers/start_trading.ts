/** `start_trading` (protocol 4): starts the locally configured trading workload. */
import type { StartResult } from "../../trading/trading_supervisor.ts";
import type { CommandHandler, HandlerOutcome } from "../command_handler.ts";
import type { HandlerDeps } from "./handler_deps.ts";

/** The `start_trading` handler: `data` is `{ trading_status, pid, started_at }`. */
export function startTradingHandler(
  deps: Pick<HandlerDeps, "supervisor">,
): CommandHandler<"start_trading"> {
  return async () => startTradingOutcome(await deps.supervisor.start());
}

/** What a start of the supervisor means as a command outcome. */
export function startTradingOutcome(result: StartResult): HandlerOutcome {
  switch (result.kind) {
    case "started":
      return {
        status: "completed",
        output: `trading workload started (pid ${result.pid})`,
        data: { trading_status: "running", pid: result.pid, started_at: result.startedAt },
      };
    case "already_running":
      return {
        status: "completed",
        output: `trading workload already running (pid ${result.pid})`,
        data: {
          trading_status: result.status,
          pid: result.pid,
          started_at: result.startedAt,
          already_running: true,
        },
      };
    case "refused":
      return {
        status: "failed",
        error: result.reason,
        error_code: result.code,
        data: { trading_status: result.status, pid: result.pid },
      };
  }
}
