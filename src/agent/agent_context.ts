/** What the agent's loops share. */
import type { Logger } from "../log/logger.ts";
import type { AgentConfig } from "../config/schema.ts";
import type { WorkerClient } from "../client/worker_client.ts";
import type { AgentSession } from "./agent_state.ts";
import type { CommandIntake } from "./command_intake.ts";
import type { OutageLog } from "./outage_log.ts";
import type { StateBudget } from "../state/state_budget.ts";
import type { ResultOutbox } from "./result_outbox.ts";
import type { SampleSpool } from "./sample_spool.ts";

/** The parts every loop of a running agent uses. */
export interface AgentContext {
  /** The live config (changed by `update_config`). */
  config: () => AgentConfig;
  /** The HTTP client for the worker endpoints. */
  client: WorkerClient;
  /** Shared connection state. */
  session: AgentSession;
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
  /** The agent's logger. */
  logger: Logger;
  /** Clock in Unix ms. */
  now: () => number;
  /** Uniform random source in [0, 1). */
  random: () => number;
  /** Registers (again), once even if several loops ask at the same time. */
  register: (signal: AbortSignal) => Promise<void>;
  /** Heartbeat fields that describe the agent now (load and flat metrics). */
  heartbeatBody: () => { current_load: number; metrics: Record<string, unknown> };
  /** Called when anything in the status changed. */
  statusChanged: () => void;
}
