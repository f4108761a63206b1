/** The trading supervisor seen through the `start_trading` and `stop_trading` handlers. */
import type { HandlerOutcome } from "../../src/executor/command_handler.ts";
import { startTradingOutcome } from "../../src/executor/handlers/start_trading.ts";
import { stopTradingOutcome } from "../../src/executor/handlers/stop_trading.ts";
import type { TradingSupervisor } from "../../src/trading/trading_supervisor.ts";

/**
 * The supervisor as a command sees it: `start` and `stop` answer with the outcome the
 * `start_trading` and `stop_trading` handlers make of the supervisor's result.
 */
export interface SupervisorAsCommands {
  start(): Promise<HandlerOutcome>;
  stop(options?: { force?: boolean }): Promise<HandlerOutcome>;
  state: TradingSupervisor["state"];
  shutdown: TradingSupervisor["shutdown"];
}

/** `supervisor` with start and stop answering as the command handlers do. */
export function asCommands(supervisor: TradingSupervisor): SupervisorAsCommands {
  return {
    start: async () => startTradingOutcome(await supervisor.start()),
    stop: async (options) => stopTradingOutcome(await supervisor.stop(options)),
    state: () => supervisor.state(),
    shutdown: (options) => supervisor.shutdown(options),
  };
}
