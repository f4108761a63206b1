/**
 * The agent runtime: opens the state dir, builds the parts and wires them together, starts
 * the loops (`agent_loops.ts`) and, on SIGINT/SIGTERM (Windows: Ctrl-C, Ctrl-Break) or
 * `restart_agent`, drains (`drain.ts`): the first signal drains, a second one at least 1 s
 * later forces. This file holds no behaviour of its own: each part lives in its module.
 *
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import { configPathError } from "../config/config_paths.ts";
import type { Logger } from "../log/logger.ts";
import { createAgentFetch } from "../client/http_fetch.ts";
import { WorkerClient } from "../client/worker_client.ts";
import { createCollector } from "../collector/mod.ts";
import { Executor } from "../executor/executor.ts";
import { createHandlers } from "../executor/handlers/mod.ts";
import { Reachability } from "../shared/backoff.ts";
import {
  type CommandVerifier,
  deriveSigningKey,
  HEARTBEAT_INTERVAL_BOUNDS,
  importEd25519PublicKey,
  METRICS_INTERVAL_BOUNDS,
} from "../protocol/mod.ts";
import { openStateDir, type StateDir, StateDirLockedError } from "../state/state_dir.ts";
import { StateBudget } from "../state/state_budget.ts";
import { TradingSupervisor } from "../trading/trading_supervisor.ts";
import { VERSION } from "../version.ts";
import type { AgentContext } from "./agent_context.ts";
import { startLoops } from "./agent_loops.ts";
import { agentDiagnostics, agentStatus, type ReportSources } from "./agent_report.ts";
import { AgentState } from "./agent_state.ts";
import { CommandIntake } from "./command_intake.ts";
import { drainAgent } from "./drain.ts";
import { concurrencyOf, LiveConfig } from "./live_config.ts";
import { OutageLog } from "./outage_log.ts";
import { clampIntervalMs } from "./registration.ts";
import { ResultOutbox } from "./result_outbox.ts";
import { SampleSpool } from "./sample_spool.ts";
import { SeenIdStore } from "./seen_ids.ts";
import { StatusWriter } from "./status_writer.ts";
import { stopSignals } from "./stop_signals.ts";

/** Exit code asking the service manager to start the agent again (`restart_agent`). */
export const EXIT_RESTART = 75;
/** File the trading workload's output goes to, inside the state dir. */
export const TRADING_LOG_FILE = "trading.log";

/** Options of {@linkcode runAgent}. */
export interface RunAgentOptions {
  /** The loaded config. */
  config: AgentConfig;
  /** Where it was loaded from (`update_config` writes back there). */
  configPath: string;
  /** The agent's logger. */
  logger: Logger;
  /** Aborting it is a first stop signal (drain). */
  signal?: AbortSignal;
  /**
   * What was narrowed at start (`describeRevokeReport`), logged once the state dir is open,
   * so that a config error stays the only line a failed start prints.
   */
  permissionsNarrowed?: string;
}

/**
 * Runs the agent until SIGINT/SIGTERM (or `signal`) and returns the exit code: 0 after a
 * clean drain, 1 on a failure to start or a forced stop, 75 after `restart_agent`.
 *
 * @throws {StateDirLockedError} when another agent holds the state dir.
 * @throws {ConfigError} naming `state_dir` when it cannot be created or opened.
 * main.ts turns both into exit 2 with one line.
 */
export async function runAgent(options: RunAgentOptions): Promise<number> {
  let stateDir: StateDir;
  try {
    stateDir = await openStateDir(options.config.state_dir);
  } catch (error) {
    if (error instanceof StateDirLockedError) throw error;
    throw configPathError("state_dir", options.config.state_dir, error);
  }
  const { logger } = options;
  if (options.permissionsNarrowed !== undefined) {
    logger.info("permissions revoked at start", { narrowed: options.permissionsNarrowed });
  }
  try {
    return await runWithStateDir(options, stateDir);
  } catch (error) {
    logger.error("agent failed", { error: String(error) });
    return 1;
  } finally {
    await stateDir.close();
  }
}

/** The key commands must be signed with: the pinned Ed25519 key, or the derived HMAC key. */
async function commandVerifier(config: AgentConfig): Promise<CommandVerifier> {
  if (config.command_signature === "ed25519") {
    return { alg: "ed25519", publicKey: await importEd25519PublicKey(config.server_public_key) };
  }
  return { alg: "hmac-sha256", key: await deriveSigningKey(config.api_key) };
}

async function runWithStateDir(options: RunAgentOptions, stateDir: StateDir): Promise<number> {
  const { logger } = options;
  const now = Date.now;
  const startedAt = now();
  const config = new LiveConfig(options.config);
  const initial = options.config;
  let restartRequested = false;
  const stop = stopSignals({
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    onEarlySecond: (reason) =>
      logger.info("stop signal repeated within 1 s: still one drain (send it again to force)", {
        signal: reason,
      }),
  });

  const agentFetch = await createAgentFetch({ caFile: initial.ca_file, proxy: initial.proxy });
  const reachability = new Reachability({ now });
  const client = new WorkerClient({
    baseUrl: initial.base_url,
    apiKey: initial.api_key,
    fetch: agentFetch.fetch,
    now,
    reachability,
  });
  const state = new AgentState({
    heartbeatMs: clampIntervalMs(initial.heartbeat_interval_seconds, HEARTBEAT_INTERVAL_BOUNDS),
    metricsMs: clampIntervalMs(initial.metrics_interval_seconds, METRICS_INTERVAL_BOUNDS),
    reachability,
  });
  const verifier = await commandVerifier(initial);
  const seen = await SeenIdStore.open(stateDir, { now });
  const budget = new StateBudget(initial.state_max_mb * 1024 * 1024);
  const results = await ResultOutbox.open(stateDir.path, { budget });
  const spool = await SampleSpool.open(stateDir.path, {
    stream: stateDir.streamId,
    budget,
    logger,
    now,
  });
  // From here to `report`, nothing awaits: the status and diagnostics read `report` later.
  const status = new StatusWriter({ dir: stateDir, build: () => agentStatus(report) });
  const statusChanged = () => status.update();
  const supervisor = new TradingSupervisor({
    getConfig: () => config.current,
    logFile: `${stateDir.path}/${TRADING_LOG_FILE}`,
    logger: logger.child({ component: "trading" }),
    onStateChange: statusChanged,
  });
  const collector = createCollector({ diskPath: stateDir.path, logger });
  const executor = new Executor({
    handlers: createHandlers({
      supervisor,
      getConfig: () => config.current,
      applyConfig: (next) => config.apply(next),
      configPath: options.configPath,
      requestRestart: () => {
        restartRequested = true;
        stop.requestDrain("restart_agent");
      },
      diagnostics: () => Promise.resolve(agentDiagnostics(report)),
    }),
    maxConcurrency: concurrencyOf(initial),
    logger: logger.child({ component: "executor" }),
  });
  config.connect({ logger, executor, state, statusChanged });
  const intake = new CommandIntake({
    workerId: () => state.workerId,
    allowlist: () => config.current.allowed_commands,
    verifier,
    seen,
    execute: (command) => executor.submit(command),
    deliver: (result, options) => results.add(result, options).then(statusChanged),
    roomForResults: () => !budget.resultsFull,
    draining: () => state.draining,
    logger,
    now,
  });
  const report: ReportSources = {
    baseUrl: () => config.current.base_url,
    startedAt,
    state,
    spool,
    results,
    budget,
    trading: supervisor,
    stateDir,
    intake,
    seen,
    client,
    now,
  };
  const context: AgentContext = {
    config: () => config.current,
    client,
    state,
    instanceId: stateDir.instanceId,
    outage: new OutageLog({
      logger,
      host: new URL(initial.base_url).host,
      backlog: () => ({ results: results.depth, samples: spool.depth }),
      now,
    }),
    results,
    spool,
    budget,
    intake,
    executor,
    trading: supervisor,
    logger,
    now,
    random: Math.random,
    statusChanged,
  };

  logger.info("agent starting", {
    version: VERSION,
    base_url: initial.base_url,
    state_dir: stateDir.path,
    pending_results: results.depth,
    spooled_samples: spool.depth,
  });
  statusChanged();
  const loops = startLoops(context, { collector, httpClient: agentFetch.client });

  const reason = await stop.drainRequested;
  const force = stop.forceSignal;
  await drainAgent({ context, executor, loops, supervisor, force }, reason);
  await collector.close();
  await spool.close();
  await seen.close();
  agentFetch.close();
  stop.dispose();
  state.setConnection("stopped");
  await status.flush();
  const code = force.aborted ? 1 : restartRequested ? EXIT_RESTART : 0;
  logger.info("agent stopped", { exit_code: code, forced: force.aborted });
  return code;
}
