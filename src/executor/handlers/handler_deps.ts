/** What the command handlers act on: the parts of the agent a command can reach. */
import type { AgentConfig } from "../../config/schema.ts";
import type { TradingSupervisor } from "../../trading/trading_supervisor.ts";

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
  /** Agent and system facts for `collect_diagnostics`; redacted with the rest of the result. */
  diagnostics: () => Promise<Record<string, unknown>>;
  /** Clock in Unix milliseconds. @default {Date.now} */
  now?: () => number;
  /** Writes changes into the config file, keeping comments. @default {updateConfigFile} */
  writeConfig?: (path: string, changes: Record<string, unknown>) => Promise<void>;
}
