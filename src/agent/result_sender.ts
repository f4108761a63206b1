/** The result sender: outbox results to `POST …/commands/{id}/result`, in order. */
import type { CommandResult } from "../protocol/mod.ts";
import type { AgentContext } from "./agent_context.ts";
import { runSender, type SenderLane } from "./sender_loop.ts";

/**
 * Sends the oldest stored result until the server answers 200 (also when the command was
 * already terminal), then removes it and goes on with the next: results leave in the order
 * they were stored. Only a result the server can never accept (404: the command is unknown;
 * 403 `worker_mismatch`; another 4xx) is removed without a 200, with an error log line.
 * Everything else is the sender loop's (`sender_loop.ts`).
 */
export function runResultSender(context: AgentContext, signal: AbortSignal): Promise<void> {
  return runSender(context, resultLane(context), signal);
}

/** The result outbox as a lane of the sender loop: one result per request. */
export function resultLane(context: AgentContext): SenderLane<CommandResult> {
  const { results, logger } = context;
  return {
    get depth() {
      return results.depth;
    },
    wake: results.wake,
    take: () => Promise.resolve(results.peek()),
    send: (result, _workerId, signal) => context.client.sendResult(result, { signal }),
    async delivered(result) {
      await results.removeOldest();
      logger.debug("result delivered", { command_id: result.command_id, status: result.status });
      context.outage.delivered("results", 1);
    },
    async refused(result, refusal) {
      logger.error("the control plane will never accept this result; removing it", {
        command_id: result.command_id,
        reason: refusal.reason,
      });
      await results.removeOldest();
      context.statusChanged();
    },
  };
}
