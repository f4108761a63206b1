/** The heartbeat loop (protocol 3.2): liveness, flat metrics, and commands by polling. */
import { AuthRetrySchedule, Backoff } from "../shared/backoff.ts";
import { abortableDelay } from "../shared/delay.ts";
import {
  HEARTBEAT_INTERVAL_BOUNDS,
  MAX_PENDING_PER_HEARTBEAT,
  snapshotOf,
  type WorkerStatus,
} from "../protocol/mod.ts";
import type { AgentContext } from "./agent_context.ts";
import { markAuthRefused, markKeyInUse } from "./auth_refused.ts";
import { clampIntervalMs, registerWorker } from "./registration.ts";

/**
 * Heartbeat fields that describe the agent now (protocol 3.2, 5.1): the commands running as
 * `current_load`, and the newest sample's flat snapshot with the trading state as it is at
 * this moment (the sample may be up to one metrics interval old).
 */
export function heartbeatBody(
  context: Pick<AgentContext, "state" | "trading" | "executor">,
): { current_load: number; metrics: Record<string, unknown> } {
  const trading = context.trading.state();
  const sample = context.state.latestSample;
  const now = { trading_status: trading.status, active_trades: trading.active_trades };
  return {
    current_load: context.executor.running,
    metrics: sample ? { ...snapshotOf(sample), ...now } : now,
  };
}

/** Longest wait for the first sample before registering without one. */
export const FIRST_SAMPLE_WAIT_MS = 5_000;

/**
 * Waits (at most {@linkcode FIRST_SAMPLE_WAIT_MS}) until the sampler stored its first sample,
 * so that the first heartbeat, sent right after registering, carries a full snapshot
 * (`cpu_percent` included: the sampler takes a short CPU baseline first).
 */
async function firstSample(context: AgentContext, signal: AbortSignal): Promise<void> {
  const deadline = context.now() + FIRST_SAMPLE_WAIT_MS;
  while (context.state.latestSample === undefined && !signal.aborted) {
    const left = deadline - context.now();
    if (left <= 0) return;
    await context.state.changed.wait(Math.min(left, 250), signal);
  }
}

/**
 * Sends the first heartbeat right after registration and then one per interval. Each answer's
 * `pending_commands` go to the intake (this is how commands arrive while the WebSocket is
 * down or unsupported), at most 10 per answer as the protocol allows. 404 registers again;
 * 401/403 shows `auth_failed` and 409 `key_in_use`, each retried on the slow schedule (5 min
 * doubling to 60 min); network errors and 5xx back off with full jitter, never waiting
 * longer than one interval or half the time since the server was last reachable (v1.1), and
 * never sooner than `Retry-After`. After an outage another loop noticed (the WebSocket
 * dropped), the heartbeat goes out as soon as the WebSocket is open again.
 */
export async function runHeartbeatLoop(context: AgentContext, signal: AbortSignal): Promise<void> {
  const { client, state, logger } = context;
  const { reachability } = state;
  const backoff = new Backoff({ random: context.random, now: context.now, reachability });
  const authRetry = new AuthRetrySchedule();
  await firstSample(context, signal);
  while (!signal.aborted) {
    if (state.workerId === undefined) await registerWorker(context, signal);
    const workerId = state.workerId;
    if (signal.aborted || workerId === undefined) return;
    const status: WorkerStatus = state.draining ? "draining" : "online";
    const outcome = await client.heartbeat(workerId, { status, ...heartbeatBody(context) }, {
      signal,
    });
    if (signal.aborted) return;
    let wait: number;
    switch (outcome.kind) {
      case "ok": {
        backoff.healthy();
        authRetry.reset();
        state.lastHeartbeatAt = context.now();
        if (outcome.value.heartbeat_interval_seconds !== undefined) {
          state.heartbeatMs = clampIntervalMs(
            outcome.value.heartbeat_interval_seconds,
            HEARTBEAT_INTERVAL_BOUNDS,
          );
        }
        state.setConnection("connected");
        context.outage.reachable();
        context.statusChanged();
        const pending = outcome.value.pending_commands ?? [];
        if (pending.length > MAX_PENDING_PER_HEARTBEAT) {
          logger.debug("heartbeat answer holds more commands than the protocol allows", {
            count: pending.length,
            taken: MAX_PENDING_PER_HEARTBEAT,
          });
        }
        for (const raw of pending.slice(0, MAX_PENDING_PER_HEARTBEAT)) {
          await context.intake.receive(raw, "heartbeat");
        }
        wait = state.heartbeatMs;
        break;
      }
      case "not_found":
        logger.warn("the control plane does not know this worker any more; registering again", {
          worker_id: workerId,
        });
        if (state.workerId === workerId) state.workerId = undefined;
        // Backed off: a server that registers but answers every heartbeat 404 must not get
        // register + heartbeat in a tight loop.
        await abortableDelay(backoff.next(), signal);
        continue;
      case "auth":
      case "worker_mismatch":
        wait = authRetry.next();
        markAuthRefused(context, { step: "heartbeat", reason: outcome.reason, retryInMs: wait });
        break;
      case "key_in_use":
        wait = authRetry.next();
        markKeyInUse(context, {
          step: "heartbeat",
          reason: outcome.reason,
          retryInMs: wait,
          holder: outcome.holder,
        });
        break;
      case "rejected":
        logger.error("heartbeat rejected", { reason: outcome.reason });
        state.setConnection("connected", `heartbeat: ${outcome.reason}`);
        wait = state.heartbeatMs;
        break;
      case "retry":
        wait = backoff.retryWait(outcome.retryAfterMs, state.heartbeatMs);
        context.outage.failed({
          firstLine: "control plane unreachable; retrying",
          reason: outcome.reason,
          nextInMs: wait,
        });
        logger.debug("heartbeat failed, retrying", { reason: outcome.reason, wait_ms: wait });
        state.setConnection("reconnecting", `heartbeat: ${outcome.reason}`);
        context.statusChanged();
        break;
    }
    if (outcome.kind === "ok") {
      // Ends early when the WebSocket is open again after it dropped (the server restarted,
      // say): the server then hears from this agent at once, not up to an interval later.
      await state.socketReopened.wait(wait, signal);
    } else if (outcome.kind === "retry") {
      await reachability.waitOut(wait, outcome.retryAfterMs, signal);
    } else await abortableDelay(wait, signal);
  }
}

/** Sends the one last `offline` heartbeat of a graceful shutdown (best effort, bounded). */
export async function sendOfflineHeartbeat(
  context: AgentContext,
  timeoutMs = 5_000,
): Promise<boolean> {
  const workerId = context.state.workerId;
  if (workerId === undefined || context.state.refused) return false;
  const outcome = await context.client.heartbeat(
    workerId,
    { status: "offline", ...heartbeatBody(context) },
    { timeoutMs },
  );
  return outcome.kind === "ok";
}
