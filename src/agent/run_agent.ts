/**
 * The agent runtime: opens the state dir, starts the loops (heartbeat, metrics sampler and
 * sender, result sender, WebSocket command channel) under one shutdown `AbortController`,
 * each under a supervisor that restarts it after an exception, and stops them on
 * SIGINT/SIGTERM (Windows: Ctrl-C, Ctrl-Break): the first signal drains, a second one at
 * least 1 s later forces.
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
import { createHandlers } from "../executor/handlers.ts";
import {
  type CommandVerifier,
  deriveSigningKey,
  HEARTBEAT_INTERVAL_BOUNDS,
  importEd25519PublicKey,
  METRICS_INTERVAL_BOUNDS,
  snapshotOf,
} from "../protocol/mod.ts";
import type { AgentStatus } from "../state/agent_status.ts";
import { openStateDir, type StateDir, StateDirLockedError } from "../state/state_dir.ts";
import { TradingSupervisor } from "../trading/trading_supervisor.ts";
import { VERSION } from "../version.ts";
import type { AgentContext } from "./agent_context.ts";
import { AgentSession } from "./agent_state.ts";
import { runCommandChannel } from "./command_channel_loop.ts";
import { CommandIntake } from "./command_intake.ts";
import { runHeartbeatLoop, sendOfflineHeartbeat } from "./heartbeat_loop.ts";
import { runMetricsSampler } from "./metrics_sampler.ts";
import { runMetricsSender } from "./metrics_sender.ts";
import { clampIntervalMs, registerWorker } from "./registration.ts";
import { ResultOutbox } from "./result_outbox.ts";
import { runResultSender, waitUntilEmpty } from "./result_sender.ts";
import { OutageLog } from "./outage_log.ts";
import { SampleSpool } from "./sample_spool.ts";
import { SeenIdStore } from "./seen_ids.ts";
import { StateBudget } from "../state/state_budget.ts";
import { StatusWriter } from "./status_writer.ts";
import { stopSignals } from "./stop_signals.ts";
import { superviseLoop } from "./supervise_loop.ts";

/** Exit code asking the service manager to start the agent again (`restart_agent`). */
export const EXIT_RESTART = 75;
/** How long a drain waits for stored results to reach the server. */
export const DRAIN_FLUSH_TIMEOUT_MS = 15_000;
/** How long a drain then waits for spooled samples (they stay spooled for the next start). */
export const DRAIN_SAMPLE_FLUSH_TIMEOUT_MS = 3_000;
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

async function makeVerifier(config: AgentConfig): Promise<CommandVerifier> {
  if (config.command_signature === "ed25519") {
    return { alg: "ed25519", publicKey: await importEd25519PublicKey(config.server_public_key) };
  }
  return { alg: "hmac-sha256", key: await deriveSigningKey(config.api_key) };
}

async function runWithStateDir(options: RunAgentOptions, stateDir: StateDir): Promise<number> {
  const { logger } = options;
  let config = options.config;
  const now = Date.now;
  const startedAt = now();
  const stop = stopSignals({
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    onEarlySecond: (reason) =>
      logger.info("stop signal repeated within 1 s: still one drain (send it again to force)", {
        signal: reason,
      }),
  });
  const loops = new AbortController();
  const sampling = new AbortController();
  let restartRequested = false;

  const agentFetch = await createAgentFetch({ caFile: config.ca_file, proxy: config.proxy });
  const client = new WorkerClient({
    baseUrl: config.base_url,
    apiKey: config.api_key,
    fetch: agentFetch.fetch,
    now,
  });
  const session = new AgentSession({
    heartbeatMs: clampIntervalMs(config.heartbeat_interval_seconds, HEARTBEAT_INTERVAL_BOUNDS),
    metricsMs: clampIntervalMs(config.metrics_interval_seconds, METRICS_INTERVAL_BOUNDS),
  });
  const seen = await SeenIdStore.open(stateDir, { now });
  const budget = new StateBudget(config.state_max_mb * 1024 * 1024);
  const results = await ResultOutbox.open(stateDir.path, { budget });
  const spool = await SampleSpool.open(stateDir.path, {
    stream: stateDir.streamId,
    budget,
    logger,
    now,
  });
  const supervisor = new TradingSupervisor({
    getConfig: () => config,
    logFile: `${stateDir.path}/${TRADING_LOG_FILE}`,
    logger: logger.child({ component: "trading" }),
    onStateChange: () => statusChanged(),
  });
  const collector = createCollector({ diskPath: stateDir.path, logger });

  const status = new StatusWriter({
    dir: stateDir,
    build: (): AgentStatus => ({
      version: VERSION,
      pid: Deno.pid,
      base_url: config.base_url,
      started_at: startedAt,
      updated_at: now(),
      ...session.statusFields(),
      spool_depth: spool.depth,
      dropped_samples: spool.dropped,
      pending_results: results.depth,
      trading_status: supervisor.state().status,
      state_used_bytes: budget.used,
      state_max_bytes: budget.maxBytes,
      instance_id: stateDir.instanceId,
    }),
  });
  const statusChanged = () => status.update();

  const handlers = createHandlers({
    supervisor,
    getConfig: () => config,
    applyConfig: (next: AgentConfig) => {
      const previous = config;
      config = next;
      logger.setLevel(next.log_level);
      executor.setMaxConcurrency(Math.min(next.max_concurrency, next.max_concurrency_limit));
      if (next.heartbeat_interval_seconds !== previous.heartbeat_interval_seconds) {
        session.heartbeatMs = clampIntervalMs(
          next.heartbeat_interval_seconds,
          HEARTBEAT_INTERVAL_BOUNDS,
        );
      }
      if (next.metrics_interval_seconds !== previous.metrics_interval_seconds) {
        session.metricsMs = clampIntervalMs(next.metrics_interval_seconds, METRICS_INTERVAL_BOUNDS);
      }
      session.changed.notify();
      statusChanged();
    },
    configPath: options.configPath,
    requestRestart: () => {
      restartRequested = true;
      stop.requestDrain("restart_agent");
    },
    diagnostics: () =>
      Promise.resolve({
        agent: {
          version: VERSION,
          pid: Deno.pid,
          uptime_s: Math.round((now() - startedAt) / 1000),
          ...session.statusFields(),
          heartbeat_interval_ms: session.heartbeatMs,
          metrics_interval_ms: session.metricsMs,
          spool_depth: spool.depth,
          dropped_samples: spool.dropped,
          pending_results: results.depth,
          state_used_bytes: budget.used,
          state_max_bytes: budget.maxBytes,
          unreported_forged_commands: intake.unreportedForged,
          seen_command_ids: seen.size,
          clock_skew_ms: client.clockSkewMs ?? null,
          state_dir: stateDir.path,
        },
        runtime: {
          deno: Deno.version.deno,
          os: Deno.build.os,
          arch: Deno.build.arch,
        },
      }),
  });
  const executor = new Executor({
    handlers,
    maxConcurrency: Math.min(config.max_concurrency, config.max_concurrency_limit),
    logger: logger.child({ component: "executor" }),
  });
  const intake = new CommandIntake({
    workerId: () => session.workerId,
    allowlist: () => config.allowed_commands,
    verifier: await makeVerifier(config),
    seen,
    execute: (command) => executor.submit(command),
    deliver: (result, options) => results.add(result, options).then(statusChanged),
    roomForResults: () => !budget.resultsFull,
    draining: () => session.draining,
    logger,
    now,
  });
  let registering: Promise<void> | undefined;
  const context: AgentContext = {
    config: () => config,
    client,
    session,
    instanceId: stateDir.instanceId,
    outage: new OutageLog({
      logger,
      host: new URL(config.base_url).host,
      backlog: () => ({ results: results.depth, samples: spool.depth }),
      now,
    }),
    results,
    spool,
    budget,
    intake,
    logger,
    now,
    random: Math.random,
    register: (signal) => {
      registering ??= registerWorker(context, signal).finally(() => registering = undefined);
      return registering;
    },
    heartbeatBody: () => {
      const trading = supervisor.state();
      const sample = session.latestSample;
      return {
        current_load: executor.running,
        metrics: sample
          ? {
            ...snapshotOf(sample),
            trading_status: trading.status,
            active_trades: trading.active_trades,
          }
          : { trading_status: trading.status, active_trades: trading.active_trades },
      };
    },
    statusChanged,
  };

  logger.info("agent starting", {
    version: VERSION,
    base_url: config.base_url,
    state_dir: stateDir.path,
    pending_results: results.depth,
    spooled_samples: spool.depth,
  });
  statusChanged();
  // Every loop runs under a supervisor: an exception restarts that loop (one log line,
  // backoff), it never stops the agent. Only the shutdown signals end them.
  const supervised = (
    name: string,
    loop: (signal: AbortSignal) => Promise<void>,
    signal: AbortSignal,
  ) => superviseLoop(name, loop, { logger, signal, random: context.random, now });
  const running = [
    supervised("heartbeat", (signal) => runHeartbeatLoop(context, signal), loops.signal),
    supervised(
      "metrics sampler",
      (signal) =>
        runMetricsSampler(context, { collector, trading: () => supervisor.state() }, signal),
      AbortSignal.any([loops.signal, sampling.signal]),
    ),
    supervised("metrics sender", (signal) => runMetricsSender(context, signal), loops.signal),
    supervised("result sender", (signal) => runResultSender(context, signal), loops.signal),
    supervised(
      "command channel",
      (signal) =>
        runCommandChannel(
          context,
          agentFetch.client ? { client: agentFetch.client } : {},
          signal,
        ),
      loops.signal,
    ),
  ];

  const reason = await stop.drainRequested;
  logger.info("draining: finishing running commands, no new ones", { reason });
  session.draining = true;
  session.setConnection("draining");
  statusChanged();
  const force = stop.forceSignal;
  // A forced drain rejects with the force reason; the force itself is handled below.
  await Promise.race([
    executor.drain(force).then(() => intake.settled()).catch(() => {}),
    new Promise((resolve) => force.addEventListener("abort", resolve, { once: true })),
  ]);
  sampling.abort();
  if (!force.aborted) {
    const flushed = await waitUntilEmpty(() => results.depth === 0, DRAIN_FLUSH_TIMEOUT_MS, force);
    if (!flushed && !force.aborted) {
      logger.warn("results not yet delivered stay in the outbox for the next start", {
        pending_results: results.depth,
      });
    }
    if (session.online) {
      await waitUntilEmpty(() => spool.depth === 0, DRAIN_SAMPLE_FLUSH_TIMEOUT_MS, force);
    }
  }
  loops.abort();
  await Promise.all(running);
  if (!force.aborted) await sendOfflineHeartbeat(context).catch(() => false);
  await supervisor.shutdown({ force: force.aborted });
  await collector.close();
  agentFetch.close();
  stop.dispose();
  session.setConnection("stopped");
  await status.flush();
  const code = force.aborted ? 1 : restartRequested ? EXIT_RESTART : 0;
  logger.info("agent stopped", { exit_code: code, forced: force.aborted });
  return code;
}
