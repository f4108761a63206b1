/**
 * What the running agent says about itself: `status.json` (for `worker-agent status`) and the
 * agent part of `collect_diagnostics`. Both read the same parts, so they cannot disagree.
 *
 * @module
 */
import type { WorkerClient } from "../client/worker_client.ts";
import type { AgentStatus } from "../state/agent_status.ts";
import type { StateDir } from "../state/state_dir.ts";
import type { StateBudget } from "../state/state_budget.ts";
import type { TradingSupervisor } from "../trading/trading_supervisor.ts";
import { VERSION } from "../version.ts";
import type { AgentState } from "./agent_state.ts";
import type { CommandIntake } from "./command_intake.ts";
import type { ResultOutbox } from "./result_outbox.ts";
import type { SampleSpool } from "./sample_spool.ts";
import type { SeenIdStore } from "./seen_ids.ts";

/** The parts the reports read. */
export interface ReportSources {
  /** `base_url` as configured now. */
  baseUrl: () => string;
  /** When the agent started, Unix ms. */
  startedAt: number;
  state: AgentState;
  spool: Pick<SampleSpool, "depth" | "dropped">;
  results: Pick<ResultOutbox, "depth">;
  budget: Pick<StateBudget, "used" | "maxBytes">;
  trading: Pick<TradingSupervisor, "state">;
  stateDir: Pick<StateDir, "path" | "instanceId">;
  intake: Pick<CommandIntake, "unreportedForged">;
  seen: Pick<SeenIdStore, "size">;
  client: Pick<WorkerClient, "clockSkewMs">;
  /** Clock in Unix ms. */
  now: () => number;
}

/** The contents of `status.json` now. */
export function agentStatus(sources: ReportSources): AgentStatus {
  const { state, spool, results, budget } = sources;
  return {
    version: VERSION,
    pid: Deno.pid,
    base_url: sources.baseUrl(),
    started_at: sources.startedAt,
    updated_at: sources.now(),
    ...state.statusFields(),
    spool_depth: spool.depth,
    dropped_samples: spool.dropped,
    pending_results: results.depth,
    trading_status: sources.trading.state().status,
    state_used_bytes: budget.used,
    state_max_bytes: budget.maxBytes,
    instance_id: sources.stateDir.instanceId,
  };
}

/** The agent's own part of `collect_diagnostics` (redacted with the rest of the result). */
export function agentDiagnostics(sources: ReportSources): Record<string, unknown> {
  const { state, spool, results, budget } = sources;
  return {
    agent: {
      version: VERSION,
      pid: Deno.pid,
      uptime_s: Math.round((sources.now() - sources.startedAt) / 1000),
      ...state.statusFields(),
      heartbeat_interval_ms: state.heartbeatMs,
      metrics_interval_ms: state.metricsMs,
      spool_depth: spool.depth,
      dropped_samples: spool.dropped,
      pending_results: results.depth,
      state_used_bytes: budget.used,
      state_max_bytes: budget.maxBytes,
      unreported_forged_commands: sources.intake.unreportedForged,
      seen_command_ids: sources.seen.size,
      clock_skew_ms: sources.client.clockSkewMs ?? null,
      state_dir: sources.stateDir.path,
    },
    runtime: {
      deno: Deno.version.deno,
      os: Deno.build.os,
      arch: Deno.build.arch,
    },
  };
}
