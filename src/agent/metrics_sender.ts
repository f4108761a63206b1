/** The metrics sender: spooled samples to `POST …/metrics` in batches of at most 500. */
import { MAX_SAMPLES_PER_REQUEST, type Sample } from "../protocol/mod.ts";
import type { AgentContext } from "./agent_context.ts";
import { runSender, type SenderLane } from "./sender_loop.ts";

/**
 * Sends the oldest spooled samples whenever there are some and the agent is connected, and
 * removes them once the server answered (accepted or duplicate: the server stores each
 * `(stream, seq)` once, so a resend after a lost answer is harmless). A 404 means the server
 * has no metrics endpoint (an extension): samples stay spooled, bounded, and the sender
 * tries again after 10 minutes. A batch the server rejects as invalid is dropped and logged;
 * a 413 halves the batch size. While sends go through, new samples wait in memory only; any
 * other answer, or no connection, writes them to the spool's files first (`stalled`).
 * Everything else is the sender loop's (`sender_loop.ts`).
 */
export function runMetricsSender(context: AgentContext, signal: AbortSignal): Promise<void> {
  return runSender(context, sampleLane(context), signal);
}

/** The sample spool as a lane of the sender loop: up to 500 samples per request. */
export function sampleLane(context: AgentContext): SenderLane<Sample[]> {
  const { spool, state, logger } = context;
  let batchSize = MAX_SAMPLES_PER_REQUEST;
  return {
    get depth() {
      return spool.depth;
    },
    wake: spool.wake,
    // Only unreadable files left: peek removed and counted them, and the loop tries again.
    take: async () => {
      const batch = await spool.peek(batchSize);
      return batch.length > 0 ? batch : undefined;
    },
    send: (batch, workerId, signal) => context.client.sendMetrics(workerId, batch, { signal }),
    async delivered(batch) {
      await spool.removeThrough(batch.at(-1)!.seq);
      // Sends work: the next samples go straight out, held in memory (issue 17).
      spool.sendsWork();
      context.outage.delivered("samples", batch.length);
    },
    async stalled() {
      try {
        await spool.persist();
      } catch (error) {
        logger.warn("could not write held samples to the spool; they stay in memory", {
          held: spool.held,
          error: String(error),
        });
      }
    },
    async refused(batch, refusal, { workerId, signal }) {
      switch (refusal.kind) {
        case "worker_mismatch":
          // The heartbeat loop owns the auth state; wait until it says the key works again.
          await state.changed.wait(state.heartbeatMs, signal);
          return;
        case "not_found": {
          logger.info("the control plane has no metrics endpoint; samples stay spooled", {
            reason: refusal.reason,
          });
          // 10 minutes, unless the agent registers again (a new worker, or a new server).
          // `changed` also fires on every heartbeat, so one wait on it would be one heartbeat.
          const until = context.now() + 10 * 60_000;
          while (!signal.aborted && state.workerId === workerId && context.now() < until) {
            await state.changed.wait(until - context.now(), signal);
          }
          return;
        }
        case "rejected": {
          if (refusal.status === 413 && batchSize > 1) {
            batchSize = Math.max(1, Math.floor(batchSize / 2));
            return;
          }
          const last = batch.at(-1)!;
          logger.error("the control plane rejected a metrics batch; dropping it", {
            reason: refusal.reason,
            first_seq: batch[0]?.seq,
            last_seq: last.seq,
          });
          await spool.removeThrough(last.seq, { lost: true });
        }
      }
    },
  };
}
