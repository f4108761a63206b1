/**
 * The agent's loops (heartbeat, metrics sampler and sender, result sender, WebSocket command
 * channel), each under a supervisor that restarts it after an exception: one log line and a
 * backoff, never the end of the agent. Only the shutdown stops them.
 *
 * @module
 */
import type { Collector } from "../collector/collector.ts";
import type { AgentContext } from "./agent_context.ts";
import { runCommandChannel } from "./command_channel_loop.ts";
import { runHeartbeatLoop } from "./heartbeat_loop.ts";
import { runMetricsSampler } from "./metrics_sampler.ts";
import { runMetricsSender } from "./metrics_sender.ts";
import { runResultSender } from "./result_sender.ts";
import { superviseLoop } from "./supervise_loop.ts";

/** Options of {@linkcode startLoops}. */
export interface StartLoopsOptions {
  /** The OS collector the sampler measures with. */
  collector: Collector;
  /** The HTTP client of `ca_file`/`proxy`, for the WebSocket too. */
  httpClient?: Deno.HttpClient | undefined;
}

/** The loops once started. */
export interface RunningLoops {
  /** Stops taking samples (the first step of a drain); the senders go on. */
  stopSampling(): void;
  /** Stops every loop and resolves when all have ended. */
  stop(): Promise<void>;
}

/** Starts every loop of the agent under its supervisor. */
export function startLoops(context: AgentContext, options: StartLoopsOptions): RunningLoops {
  const loops = new AbortController();
  const sampling = new AbortController();
  const { logger, random, now } = context;
  const supervised = (
    name: string,
    loop: (signal: AbortSignal) => Promise<void>,
    signal: AbortSignal = loops.signal,
  ) => superviseLoop(name, loop, { logger, signal, random, now });
  const channel = options.httpClient ? { client: options.httpClient } : {};
  const running = [
    supervised("heartbeat", (signal) => runHeartbeatLoop(context, signal)),
    supervised(
      "metrics sampler",
      (signal) => runMetricsSampler(context, { collector: options.collector }, signal),
      AbortSignal.any([loops.signal, sampling.signal]),
    ),
    supervised("metrics sender", (signal) => runMetricsSender(context, signal)),
    supervised("result sender", (signal) => runResultSender(context, signal)),
    supervised("command channel", (signal) => runCommandChannel(context, channel, signal)),
  ];
  return {
    stopSampling: () => sampling.abort(),
    async stop() {
      loops.abort();
      await Promise.all(running);
    },
  };
}
