/** Registration (protocol 3.1): retried until it succeeds or the agent stops. */
import { AuthRetrySchedule, Backoff } from "../shared/backoff.ts";
import { abortableDelay } from "../shared/delay.ts";
import { notFoundHint } from "../client/diagnose.ts";
import { registrationBody } from "../client/registration_body.ts";
import { HEARTBEAT_INTERVAL_BOUNDS, METRICS_INTERVAL_BOUNDS } from "../protocol/mod.ts";
import type { AgentContext } from "./agent_context.ts";
import { markAuthRefused, markKeyInUse } from "./auth_refused.ts";

/** Clamps a server-set interval in seconds to `bounds` and returns milliseconds. */
export function clampIntervalMs(seconds: number, bounds: { min: number; max: number }): number {
  return Math.round(Math.min(bounds.max, Math.max(bounds.min, seconds)) * 1000);
}

/**
 * Registers until the server answers 200, then stores the worker id, WebSocket URL and
 * clamped intervals in the state. Network errors and 5xx back off with full jitter (at most
 * half the time since the server was last reachable, `Retry-After` winning); a
 * refused key (401/403) logs one line, shows `auth_failed` and retries on the slow schedule;
 * a key held by another machine (409 `key_in_use`) the same, naming that machine.
 * Returns without registering only when `signal` aborts.
 */
export async function registerWorker(context: AgentContext, signal: AbortSignal): Promise<void> {
  const { client, state, logger } = context;
  const { reachability } = state;
  const backoff = new Backoff({ random: context.random, now: context.now, reachability });
  const authRetry = new AuthRetrySchedule();
  while (!signal.aborted) {
    state.setConnection(state.refused ? state.connection : "registering");
    context.statusChanged();
    const outcome = await client.register(
      await registrationBody(context.config(), context.instanceId),
      { signal },
    );
    if (signal.aborted) return;
    switch (outcome.kind) {
      case "ok": {
        const answer = outcome.value;
        const config = context.config();
        state.workerId = answer.worker_id;
        state.websocketUrl = answer.websocket_url;
        state.heartbeatMs = clampIntervalMs(
          answer.heartbeat_interval_seconds ?? config.heartbeat_interval_seconds,
          HEARTBEAT_INTERVAL_BOUNDS,
        );
        state.metricsMs = clampIntervalMs(
          answer.metrics_interval_seconds ?? config.metrics_interval_seconds,
          METRICS_INTERVAL_BOUNDS,
        );
        state.setConnection("connected");
        context.outage.reachable();
        logger.info("registered", {
          worker_id: answer.worker_id,
          heartbeat_interval_ms: state.heartbeatMs,
          metrics_interval_ms: state.metricsMs,
          websocket: answer.websocket_url ? "offered" : "none",
        });
        context.statusChanged();
        return;
      }
      case "auth":
      case "worker_mismatch": {
        const wait = authRetry.next();
        markAuthRefused(context, { step: "register", reason: outcome.reason, retryInMs: wait });
        await abortableDelay(wait, signal);
        break;
      }
      case "key_in_use": {
        const wait = authRetry.next();
        markKeyInUse(context, {
          step: "register",
          reason: outcome.reason,
          retryInMs: wait,
          holder: outcome.holder,
        });
        await abortableDelay(wait, signal);
        break;
      }
      case "rejected": {
        const wait = authRetry.next();
        logger.error("registration rejected", { reason: outcome.reason });
        state.setConnection("reconnecting", `register: ${outcome.reason}`, context.now() + wait);
        context.statusChanged();
        await abortableDelay(wait, signal);
        break;
      }
      case "retry":
      case "not_found": {
        // A 404 is an answer (base_url is wrong, say), not an outage: the exponent alone.
        const wait = outcome.kind === "retry"
          ? backoff.retryWait(outcome.retryAfterMs)
          : backoff.next();
        // A 404 on register usually means base_url points at the wrong place: say so.
        const hint = outcome.kind === "not_found" ? notFoundHint(context.config().base_url) : "";
        const reason = hint ? `${outcome.reason} (${hint})` : outcome.reason;
        // One line at the default level per outage (a TLS or DNS failure would otherwise be
        // invisible without debug logging), then a reminder at most once a minute.
        context.outage.failed({
          firstLine: "cannot register with the control plane; retrying",
          reason,
          nextInMs: wait,
        });
        logger.debug("registration failed, retrying", { reason, wait_ms: wait });
        state.setConnection("reconnecting", `register: ${reason}`);
        context.statusChanged();
        await reachability.waitOut(
          wait,
          "retryAfterMs" in outcome ? outcome.retryAfterMs : undefined,
          signal,
        );
        break;
      }
    }
  }
}
