/** The heartbeat loop (protocol 3.2): liveness, flat metrics, and commands by polling. */
import { AuthRetrySchedule, Backoff } from "../client/backoff.ts";
import { abortableDelay } from "../client/delay.ts";
import { HEARTBEAT_INTERVAL_BOUNDS, type WorkerStatus } from "../protocol/mod.ts";
import type { AgentContext } from "./agent_context.ts";
import { markAuthRefused } from "./auth_refused.ts";
import { clampIntervalMs } from "./registration.ts";

/**
 * Sends the first heartbeat right after registration and then one per interval. Each answer's
 * `pending_commands` go to the intake (this is how commands arrive while the WebSocket is
 * down or unsupported). 404 registers again; 401/403 shows `auth_failed` and retries on the
 * slow schedule (5 min doubling to 60 min); network errors and 5xx back off with full jitter,
 * never waiting longer than one interval and never sooner than `Retry-After`.
 */
export async function runHeartbeatLoop(context: AgentContext, signal: AbortSignal): Promise<void> {
  const { client, session, logger } = context;
  const backoff = new Backoff({ random: context.random, now: context.now });
  const authRetry = new AuthRetrySchedule();
  while (!signal.aborted) {
    if (session.workerId === undefined) await context.register(signal);
    const workerId = session.workerId;
    if (signal.aborted || workerId === undefined) return;
    const status: WorkerStatus = session.draining ? "draining" : "online";
    const outcome = await client.heartbeat(workerId, { status, ...context.heartbeatBody() }, {
      signal,
    });
    if (signal.aborted) return;
    let wait: number;
    switch (outcome.kind) {
      case "ok": {
        backoff.healthy();
        authRetry.reset();
        session.lastHeartbeatAt = context.now();
        if (outcome.value.heartbeat_interval_seconds !== undefined) {
          session.heartbeatMs = clampIntervalMs(
            outcome.value.heartbeat_interval_seconds,
            HEARTBEAT_INTERVAL_BOUNDS,
          );
        }
        session.setConnection("connected");
        context.statusChanged();
        for (const raw of outcome.value.pending_commands ?? []) {
          await context.intake.receive(raw, "heartbeat");
        }
        wait = session.heartbeatMs;
        break;
      }
      case "not_found":
        logger.warn("the control plane does not know this worker any more; registering again", {
          worker_id: workerId,
        });
        if (session.workerId === workerId) session.workerId = undefined;
        // Backed off: a server that registers but answers every heartbeat 404 must not get
        // register + heartbeat in a tight loop.
        await abortableDelay(backoff.next(), signal);
        continue;
      case "auth":
      case "worker_mismatch":
        wait = authRetry.next();
        markAuthRefused(context, { step: "heartbeat", reason: outcome.reason, retryInMs: wait });
        break;
      case "rejected":
        logger.error("heartbeat rejected", { reason: outcome.reason });
        session.setConnection("connected", `heartbeat: ${outcome.reason}`);
        wait = session.heartbeatMs;
        break;
      case "retry":
        wait = backoff.retryWait(outcome.retryAfterMs, session.heartbeatMs);
        if (session.connection !== "reconnecting") {
          logger.warn("control plane unreachable; retrying", { reason: outcome.reason });
        }
        session.setConnection("reconnecting", `heartbeat: ${outcome.reason}`);
        context.statusChanged();
        break;
    }
    await abortableDelay(wait, signal);
  }
}

/** Sends the one last `offline` heartbeat of a graceful shutdown (best effort, bounded). */
export async function sendOfflineHeartbeat(
  context: AgentContext,
  timeoutMs = 5_000,
): Promise<boolean> {
  const workerId = context.session.workerId;
  if (workerId === undefined || context.session.connection === "auth_failed") return false;
  const outcome = await context.client.heartbeat(
    workerId,
    { status: "offline", ...context.heartbeatBody() },
    { timeoutMs },
  );
  return outcome.kind === "ok";
}
