/** The metrics sender: spooled samples to `POST …/metrics` in batches of at most 500. */
import { Backoff } from "../shared/backoff.ts";
import { MAX_SAMPLES_PER_REQUEST } from "../protocol/mod.ts";
import type { AgentContext } from "./agent_context.ts";

/**
 * Sends the oldest spooled samples whenever there are some and the agent is connected, and
 * removes them once the server answered (accepted or duplicate: the server stores each
 * `(stream, seq)` once, so a resend after a lost answer is harmless). A 404 means the server
 * has no metrics endpoint (an extension): samples stay spooled, bounded, and the sender
 * tries again after 10 minutes. A batch the server rejects as invalid is dropped and logged;
 * a 413 halves the batch size.
 */
export async function runMetricsSender(context: AgentContext, signal: AbortSignal): Promise<void> {
  const { client, session, spool, logger } = context;
  const backoff = new Backoff({ random: context.random, now: context.now });
  let batchSize = MAX_SAMPLES_PER_REQUEST;
  while (!signal.aborted) {
    const workerId = session.workerId;
    if (spool.depth === 0) {
      await spool.wake.wait(60_000, signal);
      continue;
    }
    if (!session.online || workerId === undefined) {
      await session.changed.wait(session.heartbeatMs, signal);
      continue;
    }
    const batch = await spool.peek(batchSize);
    const last = batch.at(-1);
    // Unreadable files only: peek removed and counted them.
    if (last === undefined) continue;
    const outcome = await client.sendMetrics(workerId, batch, { signal });
    if (signal.aborted) return;
    switch (outcome.kind) {
      case "ok":
        backoff.healthy();
        await spool.removeThrough(last.seq);
        context.outage.delivered("samples", batch.length);
        context.statusChanged();
        break;
      case "retry":
        await session.changed.wait(
          backoff.retryWait(outcome.retryAfterMs, session.heartbeatMs),
          signal,
        );
        break;
      case "not_found": {
        logger.info("the control plane has no metrics endpoint; samples stay spooled", {
          reason: outcome.reason,
        });
        // 10 minutes, unless the agent registers again (a new worker, or a new server).
        // `changed` also fires on every heartbeat, so one wait on it would be one heartbeat.
        const until = context.now() + 10 * 60_000;
        while (!signal.aborted && session.workerId === workerId && context.now() < until) {
          await session.changed.wait(until - context.now(), signal);
        }
        break;
      }
      case "auth":
      case "worker_mismatch":
      case "key_in_use":
        // The heartbeat loop owns the auth state; wait until it says the key works again.
        await session.changed.wait(session.heartbeatMs, signal);
        break;
      case "rejected":
        if (outcome.status === 413 && batchSize > 1) {
          batchSize = Math.max(1, Math.floor(batchSize / 2));
          break;
        }
        logger.error("the control plane rejected a metrics batch; dropping it", {
          reason: outcome.reason,
          first_seq: batch[0]?.seq,
          last_seq: last.seq,
        });
        await spool.removeThrough(last.seq, { lost: true });
        break;
    }
  }
}
