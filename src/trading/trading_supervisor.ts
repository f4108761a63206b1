/**
 * The trading workload supervisor: starts the locally configured `trading.command` in its
 * own process group, keeps its output in a size-rotated log, tracks its state for metrics
 * and heartbeats, stops the whole tree (SIGTERM → grace → SIGKILL) and, when asked to,
 * restarts it after a crash with exponential backoff.
 *
 * What runs is decided by the local config only (protocol 7): no command can set the
 * program, its arguments, working directory or environment.
 *
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { RotatingFile } from "../log/rotating_file.ts";
import type { TradingState, TradingStatus } from "../protocol/mod.ts";
import { parseActiveTrades } from "./active_trades.ts";
import {
  type OperatingSystem,
  processGroupAlive,
  signalProcessGroup,
  waitForGroupExit,
} from "./process_group.ts";
import { readLines } from "./read_lines.ts";
import { abortableDelay } from "../shared/delay.ts";
import { withTimeout } from "../shared/timeout.ts";
import {
  DEFAULT_RESTART_BACKOFF,
  type RestartBackoffOptions,
  restartDelayMs,
} from "./restart_backoff.ts";

/**
 * Environment variables never handed to the workload: the agent's own secrets. Any other
 * inherited variable whose value holds a worker key is withheld too; `trading.env` is
 * passed as written.
 */
export const WITHHELD_ENV = ["FTL_API_KEY", "FTL_ADMIN_TOKEN"] as const;

const WORKER_KEY_IN_TEXT = /wak_[0-9A-Za-z]{32}/;

/** Why a start was refused. */
export type StartRefusal = "shutting_down" | "trading_disabled" | "not_configured" | "spawn_failed";

/** What {@linkcode TradingSupervisor.start} did. */
export type StartResult =
  | { kind: "started"; pid: number; startedAt: number }
  | { kind: "already_running"; status: TradingStatus; pid: number; startedAt: number }
  | {
    kind: "refused";
    code: StartRefusal;
    reason: string;
    /** What the workload is doing now. */
    status: TradingStatus;
    pid: number | null;
  };

/** What {@linkcode TradingSupervisor.stop} did. */
export type StopResult =
  | {
    kind: "not_running";
    /** A restart after a crash was waiting, and is cancelled. */
    restartCancelled: boolean;
    /** The workload had crashed (and was not restarted). */
    wasCrashed: boolean;
  }
  | { kind: "stopped"; pid: number; exit: Deno.CommandStatus; killed: boolean };

/** Options of {@linkcode TradingSupervisor}. */
export interface TradingSupervisorOptions {
  /** The current config; read at every start, stop and restart. */
  getConfig: () => AgentConfig;
  /** Where the workload's stdout and stderr go (rotated by size, mode 0600). */
  logFile: string;
  /** The agent's logger. */
  logger: Logger;
  /** Clock in Unix milliseconds. @default {Date.now} */
  now?: () => number;
  /** Waits before a restart; must reject or resolve early when `signal` aborts. @default {abortableDelay} */
  delay?: (ms: number, signal: AbortSignal) => Promise<void | boolean>;
  /** Restart backoff. `resetAfterMs`: a run at least this long forgets earlier crashes. @default {{ baseMs: 1000, capMs: 60000, resetAfterMs: 60000 }} */
  restartBackoff?: RestartBackoffOptions & { resetAfterMs?: number };
  /** Size of the workload log before it is rotated. @default {10485760} */
  logMaxBytes?: number;
  /** Rotated workload logs kept. @default {3} */
  logMaxFiles?: number;
  /**
   * The agent's environment, onto which `trading.env` is merged. @default {Deno.env.toObject}
   * when the agent may read every variable; under scoped `--allow-env` the workload inherits
   * the environment from the OS instead, with the withheld variables blanked.
   */
  baseEnv?: () => Record<string, string>;
  /** Called after every change of {@linkcode TradingSupervisor.state}'s status. */
  onStateChange?: (state: TradingState) => void;
  /** Which OS mechanism starts and kills the tree. @default {Deno.build.os} */
  os?: OperatingSystem;
}

interface Run {
  child: Deno.ChildProcess;
  pid: number;
  startedAt: number;
  exited: Promise<Deno.CommandStatus>;
  output: Promise<void>;
  stopping: boolean;
}

/** Time allowed for the tree to vanish after SIGKILL before the stop is reported as stuck. */
const KILL_WAIT_MS = 5_000;
/** Time allowed for the output pipes to drain once the tree is gone. */
const OUTPUT_DRAIN_MS = 2_000;

/**
 * Supervises the one trading workload of this agent.
 *
 * @example
 * ```ts
 * const supervisor = new TradingSupervisor({ getConfig: () => config, logFile, logger });
 * await supervisor.start(); // { kind: "started", pid: 4242, startedAt: … }
 * supervisor.state(); // { status: "running", pid: 4242, uptime_s: 0.2, restarts: 0, active_trades: 0 }
 * await supervisor.shutdown(); // the agent exits: the workload is stopped, not left behind
 * ```
 */
export class TradingSupervisor {
  #getConfig: () => AgentConfig;
  #logger: Logger;
  #now: () => number;
  #delay: (ms: number, signal: AbortSignal) => Promise<void | boolean>;
  #backoff: Required<RestartBackoffOptions> & { resetAfterMs: number };
  #baseEnv: (() => Record<string, string>) | undefined;
  #onStateChange: ((state: TradingState) => void) | undefined;
  #os: OperatingSystem;
  #log: RotatingFile;
  #logBroken = false;

  #status: TradingStatus = "stopped";
  #run: Run | undefined;
  #restarts = 0;
  #crashesInRow = 0;
  #activeTrades = 0;
  #pendingRestart: AbortController | undefined;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  /** Creates a supervisor; nothing starts until {@linkcode TradingSupervisor.start}. */
  constructor(options: TradingSupervisorOptions) {
    this.#getConfig = options.getConfig;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#delay = options.delay ?? abortableDelay;
    this.#backoff = { ...DEFAULT_RESTART_BACKOFF, resetAfterMs: 60_000, ...options.restartBackoff };
    this.#baseEnv = options.baseEnv;
    this.#onStateChange = options.onStateChange;
    this.#os = options.os ?? Deno.build.os;
    this.#log = new RotatingFile(options.logFile, {
      maxBytes: options.logMaxBytes ?? 10 * 1024 * 1024,
      maxFiles: options.logMaxFiles ?? 3,
    });
  }

  /** The workload as protocol 5.2's `trading` object. */
  state(): TradingState {
    const run = this.#run;
    const live = run !== undefined && this.#status !== "crashed" && this.#status !== "stopped";
    return {
      status: this.#status,
      pid: live ? run.pid : null,
      uptime_s: live ? Math.max(0, this.#now() - run.startedAt) / 1000 : null,
      restarts: this.#restarts,
      active_trades: live ? this.#activeTrades : 0,
    };
  }

  /**
   * Starts the workload. Refused with `trading_disabled` while `trading_enabled` is false,
   * `not_configured` while `trading.command` is empty, `spawn_failed` when the program cannot
   * be started, `shutting_down` after {@linkcode TradingSupervisor.shutdown}. Starting a
   * running workload changes nothing and says so (`already_running`).
   */
  start(): Promise<StartResult> {
    return this.#serial(() => {
      const config = this.#getConfig();
      if (this.#closed) return this.#refuse("shutting_down", "the agent is shutting down");
      if (!config.trading_enabled) {
        return this.#refuse(
          "trading_disabled",
          "trading is disabled on this worker (set trading_enabled: true in its config)",
        );
      }
      if (config.trading.command.length === 0) {
        return this.#refuse(
          "not_configured",
          "no trading workload is configured (set trading.command in this worker's config)",
        );
      }
      if (this.#run && (this.#status === "running" || this.#status === "starting")) {
        return {
          kind: "already_running",
          status: this.#status,
          pid: this.#run.pid,
          startedAt: this.#run.startedAt,
        };
      }
      this.#cancelPendingRestart();
      this.#restarts = 0;
      this.#crashesInRow = 0;
      return this.#spawn(config);
    });
  }

  /**
   * Stops the workload and every process in its group: SIGTERM, then SIGKILL once
   * `trading.stop_timeout_seconds` pass (Windows: `taskkill /T`, then `/T /F`). `force`
   * skips the grace. A pending restart after a crash is cancelled. Stopping a stopped
   * workload changes nothing and says so (`not_running`).
   */
  stop(options: { force?: boolean } = {}): Promise<StopResult> {
    return this.#serial(() => this.#stop(options.force ?? false));
  }

  /**
   * Stops the workload because the agent is exiting, and refuses later starts. The agent
   * stops its workload rather than leaving it to be adopted by the next agent: a workload
   * nobody supervises would trade with no one able to stop it, and its output pipes die
   * with the agent anyway. `force` (the agent's second stop signal) skips the grace.
   */
  async shutdown(options: { force?: boolean } = {}): Promise<void> {
    this.#closed = true;
    // A stop already waiting out its grace would hold the queue below: cut it short.
    if (options.force && this.#run?.stopping) await this.#signal(this.#run.pid, "SIGKILL");
    await this.#serial(() => this.#stop(options.force ?? false));
    this.#log.close();
  }

  async #stop(force: boolean): Promise<StopResult> {
    const restartCancelled = this.#cancelPendingRestart();
    const run = this.#run;
    if (!run) {
      const wasCrashed = this.#status === "crashed";
      this.#setStatus("stopped");
      return { kind: "not_running", restartCancelled, wasCrashed };
    }
    run.stopping = true;
    this.#setStatus("stopping");
    const graceMs = force ? 0 : this.#getConfig().trading.stop_timeout_seconds * 1000;
    this.#note(`stopping pid ${run.pid}${force ? " (forced)" : ` (grace ${graceMs} ms)`}`);
    let killed = false;
    if (!force) {
      await this.#signal(run.pid, "SIGTERM");
      if (!(await this.#waitGone(run, graceMs))) killed = true;
    } else {
      killed = true;
    }
    if (killed) {
      await this.#signal(run.pid, "SIGKILL");
      if (!(await this.#waitGone(run, KILL_WAIT_MS))) {
        this.#logger.error("trading workload's process group survived SIGKILL", { pid: run.pid });
        try {
          run.child.kill("SIGKILL"); // at least the leader, which needs no permission
        } catch {
          // already gone
        }
      }
    }
    const status = await run.exited;
    await withTimeout(run.output, OUTPUT_DRAIN_MS).catch(() => {});
    this.#note(`stopped pid ${run.pid}: ${describeExit(status)}${killed ? " after SIGKILL" : ""}`);
    this.#logger.info("trading workload stopped", {
      pid: run.pid,
      exit_code: status.code,
      signal: status.signal,
      killed,
    });
    this.#run = undefined;
    this.#activeTrades = 0;
    this.#setStatus("stopped");
    return { kind: "stopped", pid: run.pid, exit: status, killed };
  }

  /**
   * The workload's environment. With the whole environment readable (a compiled agent, or
   * an injected `baseEnv`), it is rebuilt without the agent's secrets; under scoped
   * `--allow-env` it is inherited from the OS and the withheld variables are blanked.
   */
  #workloadEnv(config: AgentConfig): { env: Record<string, string>; clearEnv: boolean } {
    const readAll = this.#baseEnv ??
      (Deno.permissions.querySync({ name: "env" }).state === "granted"
        ? () => Deno.env.toObject()
        : undefined);
    if (readAll === undefined) {
      const blanked = Object.fromEntries(WITHHELD_ENV.map((name) => [name, ""]));
      return { env: { ...blanked, ...config.trading.env }, clearEnv: false };
    }
    const env = readAll();
    for (const [name, value] of Object.entries(env)) {
      if ((WITHHELD_ENV as readonly string[]).includes(name) || WORKER_KEY_IN_TEXT.test(value)) {
        delete env[name];
      }
    }
    return { env: { ...env, ...config.trading.env }, clearEnv: true };
  }

  #spawn(config: AgentConfig): StartResult {
    const [program, ...args] = config.trading.command;
    if (program === undefined) return this.#refuse("not_configured", "trading.command is empty");
    this.#setStatus("starting");
    const { env, clearEnv } = this.#workloadEnv(config);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(program, {
        args,
        ...(config.trading.working_dir ? { cwd: config.trading.working_dir } : {}),
        env,
        clearEnv,
        // setsid(): the workload leads a new process group, so the whole tree can be signalled.
        detached: this.#os !== "windows",
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#note(`could not start ${program}: ${message}`);
      this.#logger.error("trading workload could not be started", { program, error: message });
      this.#setStatus("stopped");
      return this.#refuse("spawn_failed", `could not start ${program}: ${message}`);
    }
    const startedAt = this.#now();
    this.#activeTrades = 0;
    const output = Promise.all([
      readLines(child.stdout, (line) => {
        const trades = parseActiveTrades(line);
        if (trades !== undefined) this.#activeTrades = trades;
        this.#write("out", line);
      }),
      readLines(child.stderr, (line) => this.#write("err", line)),
    ]).then(() => {});
    const run: Run = {
      child,
      pid: child.pid,
      startedAt,
      exited: child.status,
      output,
      stopping: false,
    };
    this.#run = run;
    this.#note(`started pid ${run.pid}: ${config.trading.command.join(" ")}`);
    this.#logger.info("trading workload started", { pid: run.pid, restarts: this.#restarts });
    this.#setStatus("running");
    run.exited.then((status) => this.#onExit(run, status));
    return { kind: "started", pid: run.pid, startedAt };
  }

  async #onExit(run: Run, status: Deno.CommandStatus): Promise<void> {
    if (run.stopping || this.#run !== run) return; // #stop() reports this exit
    this.#run = undefined;
    this.#activeTrades = 0;
    const ranMs = this.#now() - run.startedAt;
    this.#setStatus(status.success ? "stopped" : "crashed");
    // The leader is gone by itself: whatever it left behind in its group goes with it.
    if (await this.#groupAlive(run.pid)) {
      this.#note(`killing what pid ${run.pid} left behind in its process group`);
      await this.#signal(run.pid, "SIGKILL");
      await this.#waitGone(run, KILL_WAIT_MS);
    }
    await withTimeout(run.output, OUTPUT_DRAIN_MS).catch(() => {});
    this.#note(`pid ${run.pid} exited by itself: ${describeExit(status)}`);
    if (status.success) {
      this.#logger.info("trading workload exited by itself", { pid: run.pid, exit_code: 0 });
      return;
    }
    if (ranMs >= this.#backoff.resetAfterMs) this.#crashesInRow = 0;
    this.#crashesInRow++;
    const config = this.#getConfig();
    const restart = config.trading.restart_on_crash && config.trading_enabled && !this.#closed &&
      this.#status === "crashed" && this.#run === undefined;
    const delayMs = restartDelayMs(this.#crashesInRow, this.#backoff);
    this.#logger.warn("trading workload crashed", {
      pid: run.pid,
      exit_code: status.code,
      signal: status.signal,
      ...(restart ? { restart_in_ms: delayMs } : {}),
    });
    if (restart) this.#scheduleRestart(delayMs);
  }

  #scheduleRestart(delayMs: number): void {
    const controller = new AbortController();
    this.#pendingRestart = controller;
    this.#delay(delayMs, controller.signal).then(
      () =>
        this.#serial(() => {
          if (controller.signal.aborted || this.#pendingRestart !== controller) return;
          this.#pendingRestart = undefined;
          const config = this.#getConfig();
          if (this.#closed || !config.trading_enabled || config.trading.command.length === 0) {
            this.#logger.warn("trading workload not restarted: trading is disabled now");
            return;
          }
          this.#restarts++;
          this.#spawn(config);
        }),
      () => {}, // aborted: a stop or start took over
    );
  }

  /** Cancels a restart waiting after a crash; answers whether there was one. */
  #cancelPendingRestart(): boolean {
    const pending = this.#pendingRestart;
    this.#pendingRestart = undefined;
    pending?.abort();
    return pending !== undefined;
  }

  #waitGone(run: Run, timeoutMs: number): Promise<boolean> {
    return waitForGroupExit(run.pid, { timeoutMs, leaderExited: run.exited, os: this.#os });
  }

  #groupAlive(pgid: number): Promise<boolean> {
    return processGroupAlive(pgid, { os: this.#os }).catch(() => false);
  }

  async #signal(pgid: number, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    try {
      await signalProcessGroup(pgid, signal, { os: this.#os });
    } catch (error) {
      this.#logger.warn("could not signal the trading workload", {
        pid: pgid,
        signal,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #setStatus(status: TradingStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.#onStateChange?.(this.state());
  }

  #write(stream: "out" | "err", line: string): void {
    this.#append(`${new Date(this.#now()).toISOString()} ${stream} ${line}\n`);
  }

  #note(text: string): void {
    this.#append(`${new Date(this.#now()).toISOString()} --- ${text}\n`);
  }

  #append(text: string): void {
    if (this.#logBroken) return;
    try {
      this.#log.write(text);
    } catch (error) {
      this.#logBroken = true; // say it once, keep supervising
      this.#logger.error("cannot write the trading workload log; its output is discarded", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** A refused start, with what the workload is doing now. */
  #refuse(code: StartRefusal, reason: string): StartResult {
    const state = this.state();
    return { kind: "refused", code, reason, status: state.status, pid: state.pid };
  }

  #serial<T>(operation: () => T | Promise<T>): Promise<T> {
    const next = this.#queue.then(operation);
    this.#queue = next.catch(() => {});
    return next;
  }
}

/** `exit code 3` or `signal SIGKILL`: how a workload ended, for humans. */
export function describeExit(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
}
