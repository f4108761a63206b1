/** Durable queue of command results waiting for the server's 200 (protocol 3.4, 8). */
import { type CommandResult, CommandResultSchema, parseJson } from "../protocol/mod.ts";
import { writeFileAtomic } from "../state/atomic_write.ts";
import { Wake } from "./_wake.ts";

/** Folder of the outbox inside the state dir. */
export const RESULT_OUTBOX_DIR = "outbox/results";

interface Entry {
  /** Undefined for a result that could not be written (it is kept in memory only). */
  file: string | undefined;
  result: CommandResult;
}

/**
 * Results are written to `<state_dir>/outbox/results/<order>.json` before anything tries to
 * send them and removed only after the server answered 200, so a result survives a crash,
 * a restart and any outage. They are never dropped for space, and are sent in the order they
 * were added.
 */
export class ResultOutbox {
  #dir: string;
  #entries: Entry[];
  #counter: number;
  /** Woken whenever a result is added. */
  readonly wake: Wake = new Wake();

  private constructor(dir: string, entries: Entry[], counter: number) {
    this.#dir = dir;
    this.#entries = entries;
    this.#counter = counter;
  }

  /** Opens (creating) the outbox under `stateDir` and loads what an earlier run left. */
  static async open(stateDir: string): Promise<ResultOutbox> {
    const dir = `${stateDir}/${RESULT_OUTBOX_DIR}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && /^\d{16}\.json$/.test(entry.name)) names.push(entry.name);
    }
    names.sort();
    const entries: Entry[] = [];
    for (const name of names) {
      const parsed = parseJson(CommandResultSchema, await Deno.readTextFile(`${dir}/${name}`));
      // A file that does not parse cannot be sent; keep it on disk for a human, skip it here.
      if (parsed.ok) entries.push({ file: name, result: parsed.value });
    }
    const last = names.at(-1);
    return new ResultOutbox(dir, entries, last ? Number(last.slice(0, 16)) + 1 : 1);
  }

  /** Results waiting. */
  get depth(): number {
    return this.#entries.length;
  }

  /** The oldest result waiting, if any. */
  peek(): CommandResult | undefined {
    return this.#entries[0]?.result;
  }

  /**
   * Stores `result` durably, then wakes the sender. When the write fails (a full disk, say)
   * it rejects, but the result is still queued in memory, so it is delivered unless the
   * agent stops first.
   */
  async add(result: CommandResult): Promise<void> {
    const file = `${String(this.#counter++).padStart(16, "0")}.json`;
    try {
      await writeFileAtomic(`${this.#dir}/${file}`, JSON.stringify(result));
    } catch (error) {
      this.#entries.push({ file: undefined, result });
      this.wake.notify();
      throw error;
    }
    this.#entries.push({ file, result });
    this.wake.notify();
  }

  /** Removes the oldest result (after the server acknowledged it). */
  async removeOldest(): Promise<void> {
    const entry = this.#entries.shift();
    if (entry?.file !== undefined) {
      await Deno.remove(`${this.#dir}/${entry.file}`).catch(() => {});
    }
  }
}
