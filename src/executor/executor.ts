/**
 * Runs verified commands: at most `max_concurrency` at once (the rest wait in order), each
 * under its `timeout_seconds`, and turns whatever happens into a complete protocol 3.4
 * result. It never throws for a command: every submit resolves with a result.
 *
 * It takes a command as `verifyCommand` left it (`VerifiedCommand`): the type is known and
 * the params are parsed, so it only looks up the handler and never checks the params again.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { CommandResult, VerifiedCommand } from "../protocol/mod.ts";
import type { CommandHandler, CommandHandlers, HandlerOutcome } from "./command_handler.ts";
import { commandResult, type ResultOutcome } from "./command_result.ts";

/** Options of {@linkcode Executor}. */
export interface ExecutorOptions {
  /** The handler of each command type; a type without one is refused (`unknown_command`). */
  handlers: Partial<CommandHandlers>;
  /** Commands run at once (at least 1); more wait in a queue. */
  maxConcurrency: number;
  /** The agent's logger. */
  logger: Logger;
  /** Clock in Unix milliseconds, for `started_at`, `finished_at` and `timestamp`. @default {Date.now} */
  now?: () => number;
}

interface Job {
  command: VerifiedCommand;
  resolve: (result: CommandResult) => void;
}

interface Running {
  controller: AbortController;
}

/** Why a running command's signal was aborted. */
const TIMED_OUT = "timeout";
const FORCED = "aborted";

/**
 * The command executor.
 *
 * @example
 * ```ts
 * const executor = new Executor({ handlers, maxConcurrency: 1, logger });
 * const result = await executor.submit(command); // { command_id, status: "completed", … }
 * await executor.drain(); // on shutdown: refuse new commands, let the others finish
 * ```
 */
export class Executor {
  #handlers: Partial<CommandHandlers>;
  #maxConcurrency: number;
  #logger: Logger;
  #now: () => number;
  #queue: Job[] = [];
  #running = new Set<Running>();
  #draining = false;
  #idle: (() => void)[] = [];

  /** Creates an executor; `maxConcurrency` must be a whole number of at least 1. */
  constructor(options: ExecutorOptions) {
    checkConcurrency(options.maxConcurrency);
    this.#handlers = options.handlers;
    this.#maxConcurrency = options.maxConcurrency;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** Changes how many commands run at once; waiting commands start at once if room appeared. */
  setMaxConcurrency(n: number): void {
    checkConcurrency(n);
    this.#maxConcurrency = n;
    this.#pump();
  }

  /** Commands running now. */
  get running(): number {
    return this.#running.size;
  }

  /** Commands waiting for a free slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Runs `command` (now or when a slot frees up) and resolves with its result:
   * `completed` or `failed` as its handler reported, `failed` with `handler_error` when the
   * handler threw, `timeout` when `timeout_seconds` passed first (the handler's signal is
   * aborted), `failed` with `draining` once {@linkcode Executor.drain} was called.
   */
  submit(command: VerifiedCommand): Promise<CommandResult> {
    if (this.#draining) {
      const now = this.#now();
      return Promise.resolve(this.#result(command, now, now, {
        status: "failed",
        error: "the agent is shutting down and takes no new commands",
        error_code: "draining",
      }));
    }
    return new Promise((resolve) => {
      this.#queue.push({ command, resolve });
      this.#pump();
    });
  }

  /**
   * Refuses new commands and waits until the running and queued ones have finished.
   * When `signal` aborts first, the running commands are aborted (result `failed`,
   * `error_code: "aborted"`), the queued ones are answered the same way without running,
   * and the returned promise rejects with the signal's reason.
   */
  drain(signal?: AbortSignal): Promise<void> {
    this.#draining = true;
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#abortAll();
        reject(signal?.reason);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#idle.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  #abortAll(): void {
    for (const running of this.#running) running.controller.abort(FORCED);
    const now = this.#now();
    for (const job of this.#queue.splice(0)) {
      job.resolve(this.#result(job.command, now, now, abortedOutcome()));
    }
  }

  #pump(): void {
    while (this.#running.size < this.#maxConcurrency && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      void this.#execute(job);
    }
  }

  async #execute(job: Job): Promise<void> {
    const { command } = job;
    const running: Running = { controller: new AbortController() };
    this.#running.add(running);
    const startedAt = this.#now();
    const logger = this.#logger.child({
      command_id: command.id,
      command_type: command.command_type,
    });
    logger.debug("command started", { running: this.#running.size, queued: this.#queue.length });
    const timer = setTimeout(
      () => running.controller.abort(TIMED_OUT),
      command.timeout_seconds * 1000,
    );
    let outcome: HandlerOutcome | "timeout";
    try {
      outcome = await this.#run(command, running.controller.signal, logger);
    } finally {
      clearTimeout(timer);
      this.#running.delete(running);
    }
    const finishedAt = this.#now();
    const result = outcome === "timeout"
      ? this.#result(command, startedAt, finishedAt, {
        status: "timeout",
        error: `the command did not finish within ${command.timeout_seconds} s`,
        error_code: "timeout",
      })
      : this.#result(command, startedAt, finishedAt, outcome);
    logger[result.status === "completed" ? "info" : "warn"]("command finished", {
      status: result.status,
      ...(result.error_code ? { error_code: result.error_code } : {}),
      duration_ms: finishedAt - startedAt,
    });
    job.resolve(result);
    this.#pump();
    if (this.#isIdle()) { for (const wake of this.#idle.splice(0)) wake(); }
  }

  /** The handler's outcome, or `"timeout"`; never rejects. */
  #run(
    command: VerifiedCommand,
    signal: AbortSignal,
    logger: Logger,
  ): Promise<HandlerOutcome | "timeout"> {
    const type = command.command_type;
    // Each handler takes its own type's command; the lookup by `type` keeps them paired,
    // which TypeScript cannot follow through a union, hence the one cast.
    const handler = this.#handlers[type] as CommandHandler | undefined;
    if (handler === undefined) {
      return Promise.resolve({
        status: "failed",
        error: `this agent does not know the command type ${JSON.stringify(type)}`,
        error_code: "unknown_command",
      });
    }
    const aborted = new Promise<HandlerOutcome | "timeout">((resolve) => {
      signal.addEventListener("abort", () => {
        resolve(signal.reason === TIMED_OUT ? "timeout" : abortedOutcome());
      }, { once: true });
    });
    const handled = (async () => {
      try {
        return await handler(command, { signal, logger });
      } catch (error) {
        logger.error("command handler threw", { error: describe(error) });
        return {
          status: "failed",
          error: describe(error),
          error_code: "handler_error",
        } satisfies HandlerOutcome;
      }
    })();
    return Promise.race([handled, aborted]);
  }

  #result(
    command: VerifiedCommand,
    startedAt: number,
    finishedAt: number,
    outcome: ResultOutcome,
  ): CommandResult {
    return commandResult(command.id, outcome, {
      startedAt,
      finishedAt,
      onInvalid: (problem) =>
        this.#logger.error("a command handler produced an invalid result", {
          command_id: command.id,
          problem,
        }),
    });
  }

  #isIdle(): boolean {
    return this.#running.size === 0 && this.#queue.length === 0;
  }
}

function abortedOutcome(): HandlerOutcome {
  return {
    status: "failed",
    error: "the agent stopped before the command finished",
    error_code: "aborted",
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function checkConcurrency(n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`maxConcurrency must be a whole number of at least 1, got ${n}`);
  }
}
