/** The metrics sampling loop: one sample per interval into the durable spool. */
import { abortableDelay } from "../shared/delay.ts";
import type { Collector } from "../collector/collector.ts";
import type { AgentContext } from "./agent_context.ts";

/**
 * Wait before the first sample, so its CPU figures cover a real interval (the collector
 * takes its baseline when it is created); the first heartbeat waits for that sample.
 */
export const CPU_BASELINE_MS = 500;

/** What the sampler needs besides the shared context. */
export interface MetricsSamplerOptions {
  /** The OS collector. */
  collector: Collector;
}

/**
 * Takes a sample every metrics interval, whether or not the server is reachable, and
 * stores it in the spool, which gives it its `stream` and next `seq`; the first one after a short CPU baseline
 * ({@linkcode CPU_BASELINE_MS}). The schedule does not drift: each tick is one interval after
 * the previous one was due. A failed sample is logged and skipped without using up a `seq`.
 * Each sample's `agent` block carries the state dir's use of its budget (`state_used_mb`).
 */
export async function runMetricsSampler(
  context: AgentContext,
  options: MetricsSamplerOptions,
  signal: AbortSignal,
): Promise<void> {
  const { spool, state, logger } = context;
  await abortableDelay(CPU_BASELINE_MS, signal);
  let due = context.now();
  while (!signal.aborted) {
    try {
      const measured = await options.collector.sample({
        trading: context.trading.state(),
        spoolDepth: spool.depth,
        droppedSamples: spool.dropped,
      }, signal);
      if (signal.aborted) return;
      measured.agent.state_used_mb = context.budget.usedMb;
      state.latestSample = await spool.add(measured);
      context.statusChanged();
    } catch (error) {
      if (signal.aborted) return;
      logger.warn("metrics sample failed", { error: String(error) });
    }
    due += state.metricsMs;
    const now = context.now();
    if (due < now - state.metricsMs) due = now; // fell far behind (suspend): start over
    await abortableDelay(due - now, signal);
  }
}
