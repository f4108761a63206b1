/**
 * The config in force while the agent runs, and what changes when `update_config` replaces
 * it: the log level, how many commands run at once, and the intervals the loops wait (a
 * change wakes them, so the new interval applies at once).
 *
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import type { Executor } from "../executor/executor.ts";
import type { Logger } from "../log/logger.ts";
import { HEARTBEAT_INTERVAL_BOUNDS, METRICS_INTERVAL_BOUNDS } from "../protocol/mod.ts";
import type { AgentState } from "./agent_state.ts";
import { clampIntervalMs } from "./registration.ts";

/** What a config change reaches. */
export interface ConfigTargets {
  /** Takes the new `log_level`. */
  logger: Pick<Logger, "setLevel">;
  /** Takes the new concurrency (`max_concurrency` within `max_concurrency_limit`). */
  executor: Pick<Executor, "setMaxConcurrency">;
  /** Takes the new intervals; its waiters are woken. */
  state: AgentState;
  /** Told that the status changed. */
  statusChanged: () => void;
}

/** How many commands run at once under `config`. */
export function concurrencyOf(config: AgentConfig): number {
  return Math.min(config.max_concurrency, config.max_concurrency_limit);
}

/**
 * Holds the config in force. The executor exists only once the handlers (which change the
 * config) exist, so the parts a change reaches are connected after construction.
 *
 * @example
 * ```ts
 * const config = new LiveConfig(loaded);
 * const executor = new Executor({ handlers: createHandlers({ getConfig: () => config.current, … }), … });
 * config.connect({ logger, executor, state, statusChanged });
 * ```
 */
export class LiveConfig {
  #current: AgentConfig;
  #targets: ConfigTargets | undefined;

  /** Starts with the loaded config. */
  constructor(initial: AgentConfig) {
    this.#current = initial;
  }

  /** The config in force now. */
  get current(): AgentConfig {
    return this.#current;
  }

  /** Connects the parts a change reaches; until then {@linkcode LiveConfig.apply} only replaces it. */
  connect(targets: ConfigTargets): void {
    this.#targets = targets;
  }

  /** Puts `next` in force without a restart. */
  apply(next: AgentConfig): void {
    const previous = this.#current;
    this.#current = next;
    const targets = this.#targets;
    if (targets === undefined) return;
    const { logger, executor, state } = targets;
    logger.setLevel(next.log_level);
    executor.setMaxConcurrency(concurrencyOf(next));
    if (next.heartbeat_interval_seconds !== previous.heartbeat_interval_seconds) {
      state.heartbeatMs = clampIntervalMs(
        next.heartbeat_interval_seconds,
        HEARTBEAT_INTERVAL_BOUNDS,
      );
    }
    if (next.metrics_interval_seconds !== previous.metrics_interval_seconds) {
      state.metricsMs = clampIntervalMs(next.metrics_interval_seconds, METRICS_INTERVAL_BOUNDS);
    }
    state.changed.notify();
    targets.statusChanged();
  }
}
