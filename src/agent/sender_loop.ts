/**
 * The one sender loop: empties a durable queue (the result outbox or the sample spool) into
 * the control plane, oldest first, while the agent is connected. What differs between the
 * two is a {@linkcode SenderLane}: how a batch is taken and sent, and what a refusal means
 * for it (`result_sender.ts`, `metrics_sender.ts`).
 *
 * @module
 */
import type { ApiOutcome } from "../client/api_outcome.ts";
import { Backoff } from "../shared/backoff.ts";
import type { Wake } from "../shared/wake.ts";
import type { AgentContext } from "./agent_context.ts";

/** An answer the lane decides about itself (the loop handles ok, retry, auth, key in use). */
export type LaneRefusal = Extract<
  ApiOutcome<unknown>,
  { kind: "not_found" | "worker_mismatch" | "rejected" }
>;

/** One queue the sender loop empties, and what its answers mean. */
export interface SenderLane<Batch> {
  /** Entries waiting. */
  readonly depth: number;
  /** Woken when an entry is added. */
  readonly wake: Wake;
  /** The next batch, oldest first; `undefined` when nothing readable was left (try again). */
  take(): Promise<Batch | undefined>;
  /** Sends `batch` for `workerId`. */
  send(batch: Batch, workerId: string, signal: AbortSignal): Promise<ApiOutcome<unknown>>;
  /** The server took `batch`: remove it (and say so). */
  delivered(batch: Batch): Promise<void>;
  /**
   * Sends do not work now (not connected, or any answer but ok): the sample spool writes what
   * it held in memory to disk. Called before the loop waits or the lane judges a refusal.
   */
  stalled?(): Promise<void>;
  /** The server answered `refusal` for `batch` sent for `workerId`: remove, shrink, or wait. */
  refused(
    batch: Batch,
    refusal: LaneRefusal,
    sent: { workerId: string; signal: AbortSignal },
  ): Promise<void>;
}

/**
 * Sends `lane`'s oldest batch whenever there is one and the agent is connected, and removes
 * it once the server took it. Network errors, timeouts, 429 and 5xx back off with full
 * jitter (never longer than one heartbeat interval or half the time since the server was
 * last reachable, never sooner than `Retry-After`); a
 * refused key or a key in use waits for the heartbeat loop, which owns those states, to see
 * the server take the agent again. Every other answer is the lane's to judge.
 */
export async function runSender<Batch>(
  context: AgentContext,
  lane: SenderLane<Batch>,
  signal: AbortSignal,
): Promise<void> {
  const { state } = context;
  const { reachability } = state;
  const backoff = new Backoff({ random: context.random, now: context.now, reachability });
  while (!signal.aborted) {
    if (lane.depth === 0) {
      await lane.wake.wait(60_000, signal);
      continue;
    }
    const workerId = state.workerId;
    if (!state.online || workerId === undefined) {
      await lane.stalled?.();
      await state.changed.wait(state.heartbeatMs, signal);
      continue;
    }
    const batch = await lane.take();
    if (batch === undefined) continue;
    const outcome = await lane.send(batch, workerId, signal);
    if (signal.aborted) return;
    if (outcome.kind !== "ok") await lane.stalled?.();
    switch (outcome.kind) {
      case "ok":
        backoff.healthy();
        await lane.delivered(batch);
        context.statusChanged();
        break;
      case "retry": {
        const wait = backoff.retryWait(outcome.retryAfterMs, state.heartbeatMs);
        await reachability.waitOut(wait, outcome.retryAfterMs, signal);
        break;
      }
      case "auth":
      case "key_in_use":
        await state.changed.wait(state.heartbeatMs, signal);
        break;
      default:
        await lane.refused(batch, outcome, { workerId, signal });
    }
  }
}
