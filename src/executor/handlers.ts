/**
 * The handler of every command type of protocol 4, wired to the parts of the agent they
 * act on. Params arrive already validated by the executor.
 *
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import { updateConfigFile } from "../config/update_config_file.ts";
import type { CommandParams, CommandType } from "../protocol/mod.ts";
import type { TradingSupervisor } from "../trading/trading_supervisor.ts";
import type { CommandHandler, HandlerOutcome } from "./command_handler.ts";
import { planConfigUpdate } from "./plan_config_update.ts";
import { redactDeep, REDACTED } from "./redact_deep.ts";

/** What the handlers act on. */
export interface HandlerDeps {
  /** The trading workload. */
  supervisor: TradingSupervisor;
  /** The config in force now. */
  getConfig: () => AgentConfig;
  /** Puts a new config in force (intervals, log level, concurrency, …) without a restart. */
  applyConfig: (next: AgentConfig) => void;
  /** The config file `update_config` writes its changes back to. */
  configPath: string;
  /** Asks the agent to drain and exit with code 75; called after the handler has resolved. */
  requestRestart: () => void;
  /** Agent and system facts for `collect_diagnostics`; redacted before they are sent. */
  diagnostics: () => Promise<Record<string, unknown>>;
  /** Clock in Unix milliseconds. @default {Date.now} */
  now?: () => number;
  /** Writes changes into the config file, keeping comments. @default {updateConfigFile} */
  writeConfig?: (path: string, changes: Record<string, unknown>) => Promise<void>;
}

/**
 * Creates the handlers.
 *
 * @example
 * ```ts
 * const executor = new Executor({ handlers: createHandlers(deps), maxConcurrency: 1, logger });
 * ```
 */
export function createHandlers(deps: HandlerDeps): Record<CommandType, CommandHandler> {
  const now = deps.now ?? Date.now;
  const writeConfig = deps.writeConfig ?? updateConfigFile;
  // One update_config at a time: each plans against the config the previous one left.
  let configUpdates: Promise<unknown> = Promise.resolve();

  return {
    start_trading: () => deps.supervisor.start(),

    stop_trading: (command) => {
      const params = command.params as CommandParams<"stop_trading">;
      return deps.supervisor.stop({ force: params.force ?? false });
    },

    update_config: (command, { logger }) => {
      const { changes } = command.params as CommandParams<"update_config">;
      const run = configUpdates.then(async (): Promise<HandlerOutcome> => {
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
      configUpdates = run.catch(() => {});
      return run;
    },

    restart_agent: () => {
      // A macrotask runs after the executor has settled this command's result.
      setTimeout(deps.requestRestart, 0);
      return Promise.resolve({
        status: "completed",
        output: "the agent restarts once running commands are done",
        data: { restarting: true },
      });
    },

    collect_diagnostics: async () => {
      const collected = await deps.diagnostics();
      const data = {
        agent_time: now(),
        trading: deps.supervisor.state(),
        config: configForDiagnostics(deps.getConfig()),
        ...collected,
      };
      return {
        status: "completed",
        output: "diagnostics collected",
        data: redactDeep(data) as Record<string, unknown>,
      };
    },

    ping: () => {
      const receivedAt = now();
      return Promise.resolve({
        status: "completed",
        output: "pong",
        data: { received_at: receivedAt, agent_time: now() },
      });
    },
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
