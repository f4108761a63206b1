/**
 * The agent's drain (the first stop signal, or `restart_agent`): take no new commands, let
 * the running ones finish, stop sampling, give the senders a while to deliver what waits,
 * stop the loops, say `offline`, stop the workload. A second stop signal (the force) cuts
 * every wait short.
 *
 * @module
 */
import type { Executor } from "../executor/executor.ts";
import { abortableDelay } from "../shared/delay.ts";
import type { TradingSupervisor } from "../trading/trading_supervisor.ts";
import type { AgentContext } from "./agent_context.ts";
import type { RunningLoops } from "./agent_loops.ts";
import { sendOfflineHeartbeat } from "./heartbeat_loop.ts";

/** How long a drain waits for stored results to reach the server. */
export const DRAIN_FLUSH_TIMEOUT_MS = 15_000;
/** How long a drain then waits for spooled samples (they stay spooled for the next start). */
export const DRAIN_SAMPLE_FLUSH_TIMEOUT_MS = 3_000;

/** What {@linkcode drainAgent} stops. */
export interface DrainParts {
  /** The loops' shared parts. */
  context: AgentContext;
  /** Finishes (or, forced, aborts) the running commands. */
  executor: Executor;
  /** The loops to stop. */
  loops: RunningLoops;
  /** The workload to stop. */
  supervisor: TradingSupervisor;
  /** Aborted by the second stop signal. */
  force: AbortSignal;
}

/**
 * Drains the agent (see the module doc) and resolves when everything has stopped; the
 * workload included. Never rejects.
 */
export async function drainAgent(parts: DrainParts, reason: string): Promise<void> {
  const { context, executor, loops, force } = parts;
  const { logger, state, results, spool } = context;
  logger.info("draining: finishing running commands, no new ones", { reason });
  state.draining = true;
  state.setConnection("draining");
  context.statusChanged();
  // A forced drain rejects with the force reason; the force itself is handled below.
  await Promise.race([
    executor.drain(force).then(() => context.intake.settled()).catch(() => {}),
    new Promise((resolve) => force.addEventListener("abort", resolve, { once: true })),
  ]);
  loops.stopSampling();
  if (!force.aborted) {
    const flushed = await waitUntilEmpty(() => results.depth === 0, DRAIN_FLUSH_TIMEOUT_MS, force);
    if (!flushed && !force.aborted) {
      logger.warn("results not yet delivered stay in the outbox for the next start", {
        pending_results: results.depth,
      });
    }
    if (state.online) {
      await waitUntilEmpty(() => spool.depth === 0, DRAIN_SAMPLE_FLUSH_TIMEOUT_MS, force);
    }
  }
  await loops.stop();
  // Samples still held in memory go to disk, to be sent at the next start.
  await spool.persist().catch((error) =>
    logger.warn("could not write held samples to the spool", { error: String(error) })
  );
  if (!force.aborted) await sendOfflineHeartbeat(context).catch(() => false);
  await parts.supervisor.shutdown({ force: force.aborted });
}

/**
 * Resolves true when `isEmpty()` holds, false when `timeoutMs` passed or `signal` aborted
 * first. Used by the drain to let the senders empty the outbox and the spool.
 */
export async function waitUntilEmpty(
  isEmpty: () => boolean,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!isEmpty() && !signal?.aborted) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await abortableDelay(Math.min(left, 50), signal);
  }
  return isEmpty();
}
