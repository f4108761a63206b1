/**
 * The agent runtime: opens the state dir, starts the loops (heartbeat, metrics sampler and
 * sender, result sender, WebSocket command channel) under one shutdown `AbortController`,
 * and stops them on SIGINT/SIGTERM (Windows: Ctrl-C, Ctrl-Break): the first signal drains,
 * the second forces.
 *
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
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
import { AgentSession } from "./agent_session.ts";
import { runCommandChannel } from "./command_channel_loop.ts";
import { CommandIntake } from "./command_intake.ts";
import { runHeartbeatLoop, sendOfflineHeartbeat } from "./heartbeat_loop.ts";
import { runMetricsSampler } from "./metrics_sampler.ts";
import { runMetricsSender } from "./metrics_sender.ts";
import { clampIntervalMs, registerWorker } from "./registration.ts";
import { ResultOutbox } from "./result_outbox.ts";
import { runResultSender, waitUntilEmpty } from "./result_sender.ts";
import { SampleSpool } from "./sample_spool.ts";
import { SeenIdStore } from "./seen_ids.ts";
import { StatusWriter } from "./status_writer.ts";
import { stopSignals } from "./stop_signals.ts";

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
}

/**
 * Runs the agent until SIGINT/SIGTERM (or `signal`) and returns the exit code: 0 after a
 * clean drain, 1 on a failure to start or a forced stop, 75 after `restart_agent`.
 */
export async function runAgent(options: RunAgentOptions): Promise<number> {
  const { logger } = options;
  let stateDir: StateDir;
  try {
    stateDir = await openStateDir(options.config.state_dir);
  } catch (error) {
    // main.ts turns a locked state dir into exit 2 with one line.
    if (error instanceof StateDirLockedError) throw error;
    logger.error("cannot open the state dir", {
      state_dir: options.config.state_dir,
      error: String(error),
    });
    return 1;
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
  const stop = stopSignals(options.signal !== undefined ? { signal: options.signal } : {});
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
  const results = await ResultOutbox.open(stateDir.path);
  const spool = await SampleSpool.open(stateDir.path, {
    stream: stateDir.streamId,
    maxBytes: config.spool_max_mb * 1024 * 1024,
    logger,
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
    deliver: (result) => results.add(result).then(statusChanged),
    draining: () => session.draining,
    logger,
    now,
  });
  let registering: Promise<void> | undefined;
  const context: AgentContext = {
    config: () => config,
    client,
    session,
    results,
    spool,
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
  const running = [
    runHeartbeatLoop(context, loops.signal),
    runMetricsSampler(
      context,
      { collector, trading: () => supervisor.state() },
      AbortSignal.any([loops.signal, sampling.signal]),
    ),
    runMetricsSender(context, loops.signal),
    runResultSender(context, loops.signal),
    runCommandChannel(
      context,
      agentFetch.client ? { client: agentFetch.client } : {},
      loops.signal,
    ),
  ].map((loop) =>
    loop.catch((error) => {
      logger.error("agent loop failed; stopping", { error: String(error) });
      stop.requestDrain("internal error");
      throw error;
    })
  );

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
  const loopErrors = (await Promise.allSettled(running)).filter((r) => r.status === "rejected");
  if (!force.aborted) await sendOfflineHeartbeat(context).catch(() => false);
  await supervisor.shutdown({ force: force.aborted });
  await collector.close();
  agentFetch.close();
  stop.dispose();
  session.setConnection("stopped");
  await status.flush();
  const code = force.aborted || loopErrors.length > 0 ? 1 : restartRequested ? EXIT_RESTART : 0;
  logger.info("agent stopped", { exit_code: code, forced: force.aborted });
  return code;
}
