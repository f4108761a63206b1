/** What the agent's loops share. */
import type { Logger } from "../log/logger.ts";
import type { AgentConfig } from "../config/schema.ts";
import type { WorkerClient } from "../client/worker_client.ts";
import type { Executor } from "../executor/executor.ts";
import type { StateBudget } from "../state/state_budget.ts";
import type { TradingSupervisor } from "../trading/trading_supervisor.ts";
import type { AgentState } from "./agent_state.ts";
import type { CommandIntake } from "./command_intake.ts";
import type { OutageLog } from "./outage_log.ts";
import type { ResultOutbox } from "./result_outbox.ts";
import type { SampleSpool } from "./sample_spool.ts";

/** The parts every loop of a running agent uses. */
export interface AgentContext {
  /** The live config (changed by `update_config`). */
  config: () => AgentConfig;
  /** The HTTP client for the worker endpoints. */
  client: WorkerClient;
  /** The state the loops share (registration, connection, intervals, draining). */
  state: AgentState;
  /** The state dir's random instance id, sent on register (v1.1). */
  instanceId: string;
  /** What the log says during and after an outage. */
  outage: OutageLog;
  /** Durable results waiting for the server. */
  results: ResultOutbox;
  /** Durable samples waiting for the server. */
  spool: SampleSpool;
  /** The state dir's disk budget (`state_max_mb`), shared by `results` and `spool`. */
  budget: StateBudget;
  /** Where commands go. */
  intake: CommandIntake;
  /** The commands running now (the heartbeat's `current_load`). */
  executor: Pick<Executor, "running">;
  /** The trading workload as the supervisor sees it (heartbeats and samples). */
  trading: Pick<TradingSupervisor, "state">;
  /** The agent's logger. */
  logger: Logger;
  /** Clock in Unix ms. */
  now: () => number;
  /** Uniform random source in [0, 1). */
  random: () => number;
  /** Called when anything in the status changed. */
  statusChanged: () => void;
}
