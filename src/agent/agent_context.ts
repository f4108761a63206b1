/** What the agent's loops share. */
import type { Logger } from "../log/logger.ts";
import type { AgentConfig } from "../config/schema.ts";
import type { WorkerClient } from "../client/worker_client.ts";
import type { AgentSession } from "./agent_session.ts";
import type { CommandIntake } from "./command_intake.ts";
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
  /** Durable results waiting for the server. */
  results: ResultOutbox;
  /** Durable samples waiting for the server. */
  spool: SampleSpool;
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
