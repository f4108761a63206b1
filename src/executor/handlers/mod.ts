/**
 * The handler of every command type of protocol 4, one file each, wired to the parts of the
 * agent they act on. Each gets its command with params already parsed and typed by
 * `verifyCommand`. The registry below is typed `{ [K in CommandType]: … }`: a command type
 * added to `protocol/command_types.ts` without a handler here does not compile.
 *
 * @module
 */
import type { CommandHandlers } from "../command_handler.ts";
import { collectDiagnosticsHandler } from "./collect_diagnostics.ts";
import type { HandlerDeps } from "./handler_deps.ts";
import { pingHandler } from "./ping.ts";
import { restartAgentHandler } from "./restart_agent.ts";
import { startTradingHandler } from "./start_trading.ts";
import { stopTradingHandler } from "./stop_trading.ts";
import { updateConfigHandler } from "./update_config.ts";

export type { HandlerDeps } from "./handler_deps.ts";
export { configForDiagnostics } from "./collect_diagnostics.ts";

/**
 * Creates the handlers.
 *
 * @example
 * ```ts
 * const executor = new Executor({ handlers: createHandlers(deps), maxConcurrency: 1, logger });
 * ```
 */
export function createHandlers(deps: HandlerDeps): CommandHandlers {
  return {
    start_trading: startTradingHandler(deps),
    stop_trading: stopTradingHandler(deps),
    update_config: updateConfigHandler(deps),
    restart_agent: restartAgentHandler(deps),
    collect_diagnostics: collectDiagnosticsHandler(deps),
    ping: pingHandler(deps),
  };
}
