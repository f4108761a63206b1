/**
 * Queue of command results waiting for the server's 200 (protocol 3.4, 8): a durable queue
 * (`state/durable_queue.ts`) that holds its results in memory as well.
 *
 * @module
 */
import { type CommandResult, CommandResultSchema } from "../protocol/mod.ts";
import type { Wake } from "../shared/wake.ts";
import { DurableQueue } from "../state/durable_queue.ts";
import { StateBudget } from "../state/state_budget.ts";

/** Folder of the outbox inside the state dir. */
export const RESULT_OUTBOX_DIR = "outbox/results";

/** Options of {@linkcode ResultOutbox.add}. */
export interface AddResultOptions {
  /**
   * Write it to disk (true), or keep it in memory only: refusals of commands that failed
   * authentication are best effort (protocol 8, v1.1) and never touch the disk.
   * @default {true}
   */
  durable?: boolean;
}

/**
 * Durable results are written to `<state_dir>/outbox/results/<order>.json` and removed only
 * after the server answered 200 and the write is done, so a result survives a crash, a restart
 * and any outage. The sender may send a result while it is being written (issue 17: the fsyncs
 * are off the command's round trip): a crash before the write is done loses the result only if
 * its send did not get through either, which is what storing it first would give as well (the
 * command has run; the control plane times it out). They are never dropped for space (the budget stops new
 * commands instead, see `state_budget.ts`), and every result, durable or not, is sent in the
 * order it was added.
 */
export class ResultOutbox {
  #queue: DurableQueue<CommandResult>;

  private constructor(queue: DurableQueue<CommandResult>) {
    this.#queue = queue;
  }

  /**
   * Opens (creating) the outbox under `stateDir`, loads what an earlier run left and counts
   * it in `budget` (a private budget of 64 MiB when none is given). A file that does not
   * parse cannot be sent; it is kept on disk for a human and skipped.
   */
  static async open(
    stateDir: string,
    options: { budget?: StateBudget } = {},
  ): Promise<ResultOutbox> {
    return new ResultOutbox(
      await DurableQueue.open(`${stateDir}/${RESULT_OUTBOX_DIR}`, {
        schema: CommandResultSchema,
        budget: options.budget ?? new StateBudget(64 * 2 ** 20),
        part: "results",
        holdValues: true,
        firstKey: 1,
      }),
    );
  }

  /** Results waiting (durable and in memory). */
  get depth(): number {
    return this.#queue.depth;
  }

  /** Woken whenever a result is added. */
  get wake(): Wake {
    return this.#queue.wake;
  }

  /** The oldest result waiting, if any. */
  peek(): CommandResult | undefined {
    return this.#queue.oldest()?.value;
  }

  /**
   * Queues `result` and wakes the sender at once, and resolves when it is stored (durably
   * unless `durable: false`). When the write fails (a full disk, say) it rejects, but the
   * result is still queued in memory, so it is delivered unless the agent stops first.
   */
  async add(result: CommandResult, options: AddResultOptions = {}): Promise<void> {
    await this.#queue.append(this.#queue.prepare(result), {
      durable: options.durable ?? true,
      keepOnFailure: true,
      whileWriting: true,
    });
  }

  /** Removes the oldest result (after the server acknowledged it). */
  async removeOldest(): Promise<void> {
    await this.#queue.dropOldest();
  }
}
