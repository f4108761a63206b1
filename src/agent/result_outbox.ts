/** Queue of command results waiting for the server's 200 (protocol 3.4, 8). */
import { type CommandResult, CommandResultSchema, parseJson } from "../protocol/mod.ts";
import { writeFileAtomic } from "../shared/atomic_write.ts";
import { Wake } from "../shared/wake.ts";
import { onDiskBytes, StateBudget } from "../state/state_budget.ts";

/** Folder of the outbox inside the state dir. */
export const RESULT_OUTBOX_DIR = "outbox/results";

interface Entry {
  /** Undefined for a result kept in memory only (best effort, or its write failed). */
  file: string | undefined;
  /** Bytes on disk counted in the budget (0 in memory). */
  bytes: number;
  result: CommandResult;
}

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
 * Durable results are written to `<state_dir>/outbox/results/<order>.json` before anything
 * tries to send them and removed only after the server answered 200, so a result survives a
 * crash, a restart and any outage. They are never dropped for space (the budget stops new
 * commands instead, see `state_budget.ts`), and every result, durable or not, is sent in the
 * order it was added.
 */
export class ResultOutbox {
  #dir: string;
  #entries: Entry[];
  #counter: number;
  #budget: StateBudget;
  /** Woken whenever a result is added. */
  readonly wake: Wake = new Wake();

  private constructor(dir: string, entries: Entry[], counter: number, budget: StateBudget) {
    this.#dir = dir;
    this.#entries = entries;
    this.#counter = counter;
    this.#budget = budget;
    for (const entry of entries) budget.change("results", entry.bytes);
  }

  /**
   * Opens (creating) the outbox under `stateDir`, loads what an earlier run left and counts
   * it in `budget` (a private budget of 64 MiB when none is given).
   */
  static async open(
    stateDir: string,
    options: { budget?: StateBudget } = {},
  ): Promise<ResultOutbox> {
    const dir = `${stateDir}/${RESULT_OUTBOX_DIR}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && /^\d{16}\.json$/.test(entry.name)) names.push(entry.name);
    }
    names.sort();
    const entries: Entry[] = [];
    for (const name of names) {
      const text = await Deno.readTextFile(`${dir}/${name}`);
      const parsed = parseJson(CommandResultSchema, text);
      // A file that does not parse cannot be sent; keep it on disk for a human, skip it here.
      if (parsed.ok) {
        entries.push({
          file: name,
          bytes: onDiskBytes(new TextEncoder().encode(text).length),
          result: parsed.value,
        });
      }
    }
    const last = names.at(-1);
    return new ResultOutbox(
      dir,
      entries,
      last ? Number(last.slice(0, 16)) + 1 : 1,
      options.budget ?? new StateBudget(64 * 2 ** 20),
    );
  }

  /** Results waiting (durable and in memory). */
  get depth(): number {
    return this.#entries.length;
  }

  /** The oldest result waiting, if any. */
  peek(): CommandResult | undefined {
    return this.#entries[0]?.result;
  }

  /**
   * Stores `result` (durably unless `durable: false`), then wakes the sender. When the write
   * fails (a full disk, say) it rejects, but the result is still queued in memory, so it is
   * delivered unless the agent stops first.
   */
  async add(result: CommandResult, options: AddResultOptions = {}): Promise<void> {
    if (options.durable === false) {
      this.#entries.push({ file: undefined, bytes: 0, result });
      this.wake.notify();
      return;
    }
    const file = `${String(this.#counter++).padStart(16, "0")}.json`;
    const text = JSON.stringify(result);
    try {
      await writeFileAtomic(`${this.#dir}/${file}`, text);
    } catch (error) {
      this.#entries.push({ file: undefined, bytes: 0, result });
      this.wake.notify();
      throw error;
    }
    const bytes = onDiskBytes(new TextEncoder().encode(text).length);
    this.#budget.change("results", bytes);
    this.#entries.push({ file, bytes, result });
    this.wake.notify();
  }

  /** Removes the oldest result (after the server acknowledged it). */
  async removeOldest(): Promise<void> {
    const entry = this.#entries.shift();
    if (entry?.file !== undefined) {
      this.#budget.change("results", -entry.bytes);
      await Deno.remove(`${this.#dir}/${entry.file}`).catch(() => {});
    }
  }
}
