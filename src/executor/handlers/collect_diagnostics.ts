/** `collect_diagnostics` (protocol 4): agent and system facts, secrets redacted. */
import type { AgentConfig } from "../../config/schema.ts";
import type { CommandHandler } from "../command_handler.ts";
import { REDACTED } from "../redact_deep.ts";
import type { HandlerDeps } from "./handler_deps.ts";

/**
 * The `collect_diagnostics` handler: `data` is the agent's time, the trading state, the
 * config (key and workload env withheld) and what `deps.diagnostics` gathers. Secrets in it
 * are redacted by the result builder, like in every result.
 */
export function collectDiagnosticsHandler(
  deps: Pick<HandlerDeps, "supervisor" | "getConfig" | "diagnostics" | "now">,
): CommandHandler<"collect_diagnostics"> {
  const now = deps.now ?? Date.now;
  return async () => {
    const collected = await deps.diagnostics();
    return {
      status: "completed",
      output: "diagnostics collected",
      data: {
        agent_time: now(),
        trading: deps.supervisor.state(),
        config: configForDiagnostics(deps.getConfig()),
        ...collected,
      },
    };
  };
}

/** The config as diagnostics show it: the key and the workload's env values withheld. */
export function configForDiagnostics(config: AgentConfig): Record<string, unknown> {
  return {
    ...config,
    api_key: REDACTED,
    trading: {
      ...config.trading,
      env: Object.fromEntries(Object.keys(config.trading.env).map((name) => [name, REDACTED])),
    },
  };
}
