/** The result sender: outbox results to `POST …/commands/{id}/result`, in order. */
import { Backoff } from "../shared/backoff.ts";
import type { AgentContext } from "./agent_context.ts";

/**
 * Sends the oldest stored result until the server answers 200 (also when the command was
 * already terminal), then removes it and goes on with the next: results leave in the order
 * they were stored. Network errors and 5xx back off; auth problems wait for the heartbeat
 * loop to see the key work again. Only a result the server can never accept (404: the
 * command is unknown; 403 `worker_mismatch`; another 4xx) is removed without a 200, with an
 * error log line.
 */
export async function runResultSender(context: AgentContext, signal: AbortSignal): Promise<void> {
  const { client, session, results, logger } = context;
  const backoff = new Backoff({ random: context.random, now: context.now });
  while (!signal.aborted) {
    const result = results.peek();
    if (result === undefined) {
      await results.wake.wait(60_000, signal);
      continue;
    }
    if (!session.online) {
      await session.changed.wait(session.heartbeatMs, signal);
      continue;
    }
    const outcome = await client.sendResult(result, { signal });
    if (signal.aborted) return;
    switch (outcome.kind) {
      case "ok":
        backoff.healthy();
        await results.removeOldest();
        logger.debug("result delivered", { command_id: result.command_id, status: result.status });
        context.outage.delivered("results", 1);
        context.statusChanged();
        break;
      case "retry":
        await session.changed.wait(
          backoff.retryWait(outcome.retryAfterMs, session.heartbeatMs),
          signal,
        );
        break;
      case "auth":
      case "key_in_use":
        // The heartbeat loop owns these states; wait until it says the server takes us again.
        await session.changed.wait(session.heartbeatMs, signal);
        break;
      case "not_found":
      case "worker_mismatch":
      case "rejected":
        logger.error("the control plane will never accept this result; removing it", {
          command_id: result.command_id,
          reason: outcome.reason,
        });
        await results.removeOldest();
        context.statusChanged();
        break;
    }
  }
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
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, 50)));
  }
  return isEmpty();
}
